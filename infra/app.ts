// The CDK app: `npx cdk synth` works offline, with no AWS account.
import { App } from 'aws-cdk-lib';
import { PromoJobsStack } from './promo-jobs-stack';

const app = new App();
new PromoJobsStack(app, 'PromoJobs');
app.synth();
