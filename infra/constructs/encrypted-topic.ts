// Every SNS topic in this app: encrypted with its own customer-managed key (rotated, and kept when
// the stack goes: messages in flight need it — CDK's default for keys) and reachable over TLS only.
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

export interface EncryptedTopicProps {
  topicName: string;
  displayName: string;
  keyAlias: string;
  keyDescription: string;
}

/** The topic (construct id `id`) and its key (`<id>Key`). */
export function encryptedTopic(scope: Construct, id: string, props: EncryptedTopicProps) {
  const key = new Key(scope, `${id}Key`, {
    alias: props.keyAlias,
    description: props.keyDescription,
    enableKeyRotation: true,
  });
  const topic = new Topic(scope, id, {
    topicName: props.topicName,
    displayName: props.displayName,
    masterKey: key,
    enforceSSL: true,
  });
  return { topic, key };
}
