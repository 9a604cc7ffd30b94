// recorder — MerchantOnboarded / MerchantViolation events from the merchant system (EventBridge rule).
import { createRecorderHandler } from '../../shared/lambda/recorder-handler';

export const handler = createRecorderHandler();
