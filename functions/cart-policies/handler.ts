// cart-policies — scheduled daily at 00:00 Asia/Shanghai, or invoked by an operator with { asOf } / { from, to }.
import { createJobHandler } from '../../shared/lambda/job-handler';

export const handler = createJobHandler('cart-policies');
