// A tiny local stand-in for SNS that answers PublishBatch in the Query protocol (form-encoded request,
// XML response), for code that carries its own copy of the SDK (a bundle) and so cannot be mocked at
// the SDK boundary. Point a client at it with AWS_ENDPOINT_URL_SNS.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedEntry {
  topicArn: string;
  id: string;
  message: string;
  attributes: Record<string, string>;
}

export interface SnsStub {
  endpoint: string;
  /** Every entry SNS accepted, in order. */
  published: PublishedEntry[];
  /** Requests seen, accepted or not. */
  requests: number;
  /** When set, every entry is answered as failed with this code (not the sender's fault: retryable). */
  failWith: string | undefined;
  close(): Promise<void>;
}

const xml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

interface Draft {
  id: string;
  message: string;
  attributes: Map<string, { name?: string; value?: string }>;
}

/** The entries of a form-encoded PublishBatch request, in order. */
function entriesOf(form: URLSearchParams): PublishedEntry[] {
  const drafts = new Map<number, Draft>();
  for (const [key, value] of form) {
    const match = /^PublishBatchRequestEntries\.member\.(\d+)\.(.+)$/.exec(key);
    if (!match) continue;
    const n = Number(match[1]);
    const field = match[2] ?? '';
    const draft = drafts.get(n) ?? { id: '', message: '', attributes: new Map() };
    drafts.set(n, draft);
    if (field === 'Id') draft.id = value;
    if (field === 'Message') draft.message = value;
    const attribute = /^MessageAttributes\.entry\.(\d+)\.(Name|Value\.StringValue)$/.exec(field);
    if (attribute) {
      const slot = draft.attributes.get(attribute[1] ?? '') ?? {};
      if (attribute[2] === 'Name') slot.name = value;
      else slot.value = value;
      draft.attributes.set(attribute[1] ?? '', slot);
    }
  }
  return [...drafts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, d]) => ({
      topicArn: form.get('TopicArn') ?? '',
      id: d.id,
      message: d.message,
      attributes: Object.fromEntries([...d.attributes.values()].map((a) => [a.name ?? '', a.value ?? ''])),
    }));
}

export async function startSnsStub(): Promise<SnsStub> {
  const stub: SnsStub = {
    endpoint: '',
    published: [],
    requests: 0,
    failWith: undefined,
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      stub.requests++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('Action') !== 'PublishBatch') {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>stub: only PublishBatch</Message></Error><RequestId>stub</RequestId></ErrorResponse>`,
        );
        return;
      }
      const entries = entriesOf(form);
      const members = (kind: 'Successful' | 'Failed') =>
        entries
          .map((entry, i) =>
            kind === 'Successful'
              ? `<member><Id>${xml(entry.id)}</Id><MessageId>stub-${stub.requests}-${i}</MessageId></member>`
              : `<member><Id>${xml(entry.id)}</Id><Code>${xml(stub.failWith ?? '')}</Code><Message>stub failure</Message><SenderFault>false</SenderFault></member>`,
          )
          .join('');
      if (!stub.failWith) stub.published.push(...entries);
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult>` +
          `<Successful>${stub.failWith ? '' : members('Successful')}</Successful>` +
          `<Failed>${stub.failWith ? members('Failed') : ''}</Failed>` +
          `</PublishBatchResult><ResponseMetadata><RequestId>stub-${stub.requests}</RequestId></ResponseMetadata></PublishBatchResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () => new Promise((resolve) => server.close(() => resolve()));
  return stub;
}
