import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { vehiclePk } from "./table.ts";

/**
 * A vehicle's items of one kind (sort keys `<prefix><ISO time>#…`), newest
 * first, from `since` on, at most `limit`; each item's JSON attribute parsed.
 */
export const listNewestFirst = async <T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  query: { vehicleId: string; skPrefix: string; attribute: string; since?: string | undefined; limit: number },
): Promise<T[]> => {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :lower AND :upper",
      ExpressionAttributeValues: {
        ":pk": vehiclePk(query.vehicleId),
        ":lower": `${query.skPrefix}${query.since ?? ""}`,
        ":upper": `${query.skPrefix}\uffff`,
      },
      ScanIndexForward: false,
      Limit: query.limit,
    }),
  );
  return (result.Items ?? []).map((item) => JSON.parse(item[query.attribute] as string) as T);
};
