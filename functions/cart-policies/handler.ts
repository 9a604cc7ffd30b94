// cart-policies — on its schedule in shared/jobs/registry.ts, or invoked by an operator with { asOf } / { from, to }.
import { createJobHandler } from '../../shared/lambda/job-handler';

export const handler = createJobHandler('cart-policies');
