// One way to write "set these fields if this condition holds": the conditional writes of policies
// and of merchants' notice states.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** Sets `fields` on the item at `key` if `condition` holds; false when it did not (someone else wrote first). */
export async function setIf(
  deps: Deps,
  key: Record<string, string>,
  fields: object,
  condition: Condition,
): Promise<boolean> {
  const names: Record<string, string> = { ...condition.names };
  const values: Record<string, unknown> = { ...condition.values };
  const clauses = Object.entries(fields).map(([name, value]) => {
    names[`#f_${name}`] = name;
    values[`:f_${name}`] = value;
    return `#f_${name} = :f_${name}`;
  });
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: key,
        UpdateExpression: `SET ${clauses.join(', ')}`,
        ConditionExpression: condition.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
