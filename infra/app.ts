// The CDK app: `npx cdk synth` works offline, with no AWS account.
//   npx cdk deploy -c stage=prod -c alarmEmail=ops@example.com   (settings: infra/stage.ts)
import { App } from 'aws-cdk-lib';
import { addPromoJobsStage } from './promo-jobs-app';
import { StageSettingsError } from './stage';

const app = new App();
try {
  addPromoJobsStage(app);
} catch (error) {
  // A setting the operator gave is wrong: say which, and nothing else (a stack trace would bury it).
  if (!(error instanceof StageSettingsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
app.synth();
