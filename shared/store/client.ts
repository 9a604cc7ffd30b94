import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClients {
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/** Fixed dummy credentials for DynamoDB Local: it keeps data per access key and region. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export function createDynamoClients(endpoint?: string): DynamoClients {
  const raw = new DynamoDBClient(
    endpoint
      ? { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 8 }
      : { maxAttempts: 8 },
  );
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  return { raw, doc };
}
