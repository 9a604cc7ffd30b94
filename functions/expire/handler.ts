// expire — scheduled daily at 23:59 Asia/Shanghai, or invoked by an operator with { asOf } / { from, to }.
import { createJobHandler } from '../../shared/lambda/job-handler';

export const handler = createJobHandler('expire');
