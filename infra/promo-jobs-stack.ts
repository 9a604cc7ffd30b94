import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PromoTable } from './constructs/promo-table';

export class PromoJobsStack extends Stack {
  public readonly table: PromoTable;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.table = new PromoTable(this, 'State');
  }
}
