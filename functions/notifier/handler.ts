// notifier — consumes the table's stream and publishes the notices each change causes to SNS.
import { createNotifierHandler } from '../../shared/lambda/notifier-handler';

export const handler = createNotifierHandler();
