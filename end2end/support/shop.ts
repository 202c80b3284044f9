// "E2E Shop": a tiny integrator, as a real organisation would run one.
//
// - GET /return?ref=REF is the redirectUrl the shop gives Proofme. It looks the
//   identification up through the API at the moment the customer lands, so the
//   page shows what the integrator can read then: `<p id="status">` holds the
//   statusName.
// - POST /webhook receives Proofme's webhooks, checks their Standard Webhooks
//   signature and records them.
// - GET /webhooks?id=ID lists the webhooks received for one identification.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

export interface ReceivedWebhook {
  receivedAt: string;
  headers: Record<string, string>;
  body: string;
  /** The signature matched the organisation's webhook secret. */
  signatureValid: boolean;
}

interface ShopOptions {
  port: number;
  proofmeURL: string;
  apiKey: string;
  webhookSecret: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`;
}

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function verifySignature(
  secret: string,
  headers: http.IncomingHttpHeaders | Record<string, string>,
  body: string,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((sig) => {
    const [version, value] = sig.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface IdentificationRow {
  id: string;
  description: string | null;
  status: string;
  statusName: string;
}

export async function startShop(options: ShopOptions): Promise<http.Server> {
  const webhooks = new Map<string, ReceivedWebhook[]>();
  const api = async (path: string) => {
    const res = await fetch(`${options.proofmeURL}${path}`, {
      headers: { authorization: `Bearer ${options.apiKey}` },
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${options.port}`);
    try {
      if (req.method === 'GET' && url.pathname === '/return') {
        const ref = url.searchParams.get('ref') ?? '';
        // The integrator knows its own reference; it finds the identification by it.
        const list = (await api(
          `/v1/identification?search=${encodeURIComponent(ref)}&limit=250`,
        )) as { rows: IdentificationRow[] };
        const found = list.rows.find((r) => r.description === ref);
        if (!found) {
          res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page('Shop', `<h1>Shop</h1><p id="status">unknown</p>`));
          return;
        }
        // Fetch the object itself, as the docs tell integrators to.
        const ident = (await api(`/v1/identification/${found.id}`)) as IdentificationRow;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          page(
            'Shop',
            `<h1>Shop</h1><p id="status">${escapeHtml(ident.statusName)}</p>` +
              `<p id="identification">${escapeHtml(ident.id)}</p>`,
          ),
        );
        return;
      }
      if (req.method === 'POST' && url.pathname === '/webhook') {
        const body = await readBody(req);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string') headers[k] = v;
        }
        let id = '';
        try {
          id = String(JSON.parse(body).id ?? '');
        } catch {
          // Recorded under '' so a malformed delivery is still visible.
        }
        const list = webhooks.get(id) ?? [];
        list.push({
          receivedAt: new Date().toISOString(),
          headers,
          body,
          signatureValid: verifySignature(options.webhookSecret, req.headers, body),
        });
        webhooks.set(id, list);
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'GET' && url.pathname === '/webhooks') {
        const id = url.searchParams.get('id') ?? '';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(webhooks.get(id) ?? []));
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return server;
}
