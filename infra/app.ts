// The CDK app: `npx cdk synth` works offline, with no AWS account.
//   npx cdk deploy -c stage=prod -c alarmEmail=ops@example.com   (settings: infra/stage.ts)
import { App } from 'aws-cdk-lib';
import { addPromoJobsStage } from './promo-jobs-app';

const app = new App();
addPromoJobsStage(app);
app.synth();
