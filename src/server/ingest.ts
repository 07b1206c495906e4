/**
 * `POST /v1/namespaces/{ns}/events`: a body in any registered format, streamed
 * through the engine into the store. By the time this runs the principal is
 * authenticated and authorized, and no body byte has been read.
 *
 *   headers ─▶ region, format, encoding, size, idempotency, overload checks (no body read)
 *   body ─▶ [gunzip] ─▶ byte limit ─▶ pipeline: frame ─▶ tokenize ─▶ toSegmentEvent
 *        ─▶ store sink (group commit, resolves when durable) ─▶ published to the region
 *   rejections (line, code, message) ─▶ collected, counted, capped
 *   all batches durable ─▶ 200 {"accepted", "rejected", "errors"}
 *
 * The body is never held whole: the engine reads it in batches, and the store sink
 * awaits each batch's commit before the engine reads on, so a slow store slows the
 * client through TCP. A failure part-way (the size limit, bad gzip, a store failure)
 * is answered with the error and the number of events already made durable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { SegmentEvent } from '../audience/segment-event.js';
import { type BatchTokenizer, createBatchTokenizer } from '../core/batch-tokenizer.js';
import type { Batch } from '../core/contracts.js';
import { isSluiceError } from '../core/errors.js';
import type { AnyFormat, FormatRegistry } from '../core/registry.js';
import { autoGunzip } from '../core/sources.js';
import { applyTransforms, type ItemCounts } from '../core/write-batch.js';
import type { Principal } from './auth.js';
import type { ServerConfig } from './config.js';
import { HttpError, toHttpError } from './errors.js';
import type { GroupCommitter } from './group-commit.js';
import { hasUnreadBody, sendJson } from './http.js';
import type { IdempotencyCache } from './idempotency.js';
import type { ServerMetrics } from './metrics.js';
import { toSegmentEvent } from './records.js';

/** What each committed batch carries to the fan-out. */
export interface CommitMeta {
  region: string;
  /** `performance.now()` when the request arrived, for the fan-out lag. */
  arrived: number;
}

export interface IngestDeps {
  config: ServerConfig;
  registry: FormatRegistry;
  committer: GroupCommitter<CommitMeta>;
  idempotency: IdempotencyCache;
  metrics: ServerMetrics;
}

export interface IngestContext {
  principal: Principal;
  ns: string;
  url: URL;
  /** `performance.now()` at arrival. */
  arrived: number;
  /** `Date.now()` at arrival: the `ts` of events that give none. */
  receivedAt: number;
  /** Counts events against the principal's events rate limit, if it has one. */
  charge?(events: number): void;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  errors: { line: number; code: string; message: string }[];
}

/** The region the events go to: `X-Sluice-Region`, else `?region=`, else the config's `defaultRegion`. */
export function pickRegion(req: IncomingMessage, url: URL, config: ServerConfig): string {
  const header = req.headers['x-sluice-region'];
  const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('region') ?? undefined;
  const region = given ?? config.defaultRegion;
  if (region === undefined) {
    throw new HttpError(
      'SLUICE_E_USAGE',
      `missing region: set the X-Sluice-Region header or ?region= (one of ${config.regions.join(', ')})`,
    );
  }
  if (!config.regions.includes(region)) {
    throw new HttpError(
      'SLUICE_E_USAGE',
      `unknown region ${JSON.stringify(region)} (known: ${config.regions.join(', ')})`,
    );
  }
  return region;
}

/** The body's format: `?format=<name>` if given, else the format registered for the Content-Type. */
export function pickFormat(req: IncomingMessage, url: URL, registry: FormatRegistry): AnyFormat {
  const name = url.searchParams.get('format');
  if (name !== null) {
    try {
      return registry.get(name);
    } catch (e) {
      throw toHttpError(e);
    }
  }
  const type = req.headers['content-type'];
  const known = () =>
    registry
      .list()
      .flatMap((f) => f.mediaTypes)
      .join(', ');
  if (type === undefined || type.trim() === '') {
    throw new HttpError(
      'SLUICE_E_UNKNOWN_FORMAT',
      `missing Content-Type: send one of ${known()}, or name the format with ?format=`,
    );
  }
  const format = registry.forMediaType(type);
  if (!format) {
    throw new HttpError(
      'SLUICE_E_UNKNOWN_FORMAT',
      `unsupported Content-Type ${JSON.stringify(type)}: send one of ${known()}, or name the format with ?format=`,
    );
  }
  return format;
}

/**
 * The body format's options: each `?opt.<name>=<value>` query parameter, read as the CLI
 * reads `-i name=value`. The `segments` format's namespace is the path's, never an option.
 */
export function pickFormatOptions(url: URL, format: AnyFormat, ns: string): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) {
    if (!k.startsWith('opt.')) continue;
    const name = k.slice('opt.'.length);
    if (Object.hasOwn(options, name)) {
      throw new HttpError('SLUICE_E_OPTION', `option ${format.name}.${name} is given twice`);
    }
    if (format.name === 'segments' && name === 'ns') {
      throw new HttpError('SLUICE_E_OPTION', 'option segments.ns: the namespace comes from the path');
    }
    options[name] = v;
  }
  if (format.name === 'segments') options.ns = ns;
  return options;
}

function pickEncoding(req: IncomingMessage): 'identity' | 'gzip' {
  const raw = req.headers['content-encoding'];
  const enc = (raw ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return 'identity';
  if (enc === 'gzip' || enc === 'x-gzip') return 'gzip';
  throw new HttpError(
    'SLUICE_E_UNSUPPORTED_ENCODING',
    `unsupported Content-Encoding ${JSON.stringify(raw)}: send gzip or none`,
    {
      headers: { 'Accept-Encoding': 'gzip' },
    },
  );
}

function tooLarge(limit: number, accepted: number): HttpError {
  return new HttpError('SLUICE_E_BODY_TOO_LARGE', `request body exceeds ${limit} bytes (decoded)`, {
    extra: { accepted },
  });
}

export async function ingest(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IngestContext,
  deps: IngestDeps,
): Promise<void> {
  const { config } = deps;
  const limits = config.limits;
  // Everything here is decided from the headers; nothing has read the body yet.
  const region = pickRegion(req, ctx.url, config);
  const format = pickFormat(req, ctx.url, deps.registry);
  const options = pickFormatOptions(ctx.url, format, ctx.ns);
  // Made here, so a bad option is a 400 before any body byte is read.
  let tokens: BatchTokenizer<unknown>;
  try {
    tokens = createBatchTokenizer(format, {
      source: 'body',
      options,
      maxRecordBytes: limits.maxRecordBytes,
      trackOrigins: true,
    });
  } catch (e) {
    throw toHttpError(e);
  }
  const encoding = pickEncoding(req);
  const length = Number(req.headers['content-length'] ?? Number.NaN);
  if (length > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes, 0);

  const key = req.headers['idempotency-key'];
  const idem = await deps.idempotency.begin(
    ctx.principal.id,
    Array.isArray(key) ? key[0] : key,
    // LF-separated: no id holds one, JSON escapes it, and a PostgreSQL text column takes it.
    `${ctx.ns}\n${region}\n${format.name}\n${JSON.stringify(options)}`,
  );
  if (idem.kind === 'replay') {
    sendJson(res, 200, idem.body, {
      'idempotent-replayed': 'true',
      ...(hasUnreadBody(req) ? { connection: 'close' } : {}),
    });
    return;
  }
  try {
    if (deps.committer.depth > limits.maxQueuedEvents) {
      throw new HttpError(
        'SLUICE_E_OVERLOADED',
        `the store is behind (${deps.committer.depth} events waiting); retry later`,
        { headers: { 'Retry-After': '1' } },
      );
    }
    // Every check that needs no body passed: now invite it (`Expect: 100-continue`).
    if (/^100-continue$/i.test(req.headers.expect ?? '')) res.writeContinue();
    const result = await run(req, ctx, deps, format, tokens, encoding, region);
    const body = JSON.stringify(result);
    // Recorded before it is sent: a client that never receives it retries, and is answered.
    if (idem.kind === 'run') await idem.finish(body);
    sendJson(res, 200, body);
  } catch (e) {
    if (idem.kind === 'run') idem.abandon();
    throw e;
  }
}

async function run(
  req: IncomingMessage,
  ctx: IngestContext,
  deps: IngestDeps,
  format: AnyFormat,
  tokens: BatchTokenizer<unknown>,
  encoding: 'identity' | 'gzip',
  region: string,
): Promise<IngestResult> {
  const { metrics, committer } = deps;
  const { maxBodyBytes, maxErrors } = deps.config.limits;
  const controller = new AbortController();
  let failure: HttpError | 'client-gone' | undefined;
  let accepted = 0;
  let rejected = 0;
  const errors: IngestResult['errors'] = [];

  // The request is piped, not pipelined: destroying a request that is not complete
  // destroys its socket, and the 413 or 400 must still reach the client.
  let decoded = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      decoded += chunk.length;
      if (decoded > maxBodyBytes) {
        const e = tooLarge(maxBodyBytes, accepted);
        failure ??= e;
        cb(e);
      } else cb(null, chunk);
    },
  });
  const fail = (e: HttpError | 'client-gone') => {
    failure ??= e;
    limiter.destroy(e === 'client-gone' ? new Error('client closed the connection') : e);
  };
  if (encoding === 'gzip') {
    const gunzip = createGunzip();
    gunzip.on('error', (e) =>
      fail(new HttpError('SLUICE_E_INPUT', `body is not valid gzip: ${e.message}`, { cause: e })),
    );
    req.pipe(gunzip).pipe(limiter);
  } else {
    req.pipe(limiter);
  }
  const onClose = () => {
    if (!req.complete) fail('client-gone');
  };
  req.on('close', onClose);

  const counts: ItemCounts = { tokenized: 0, filtered: 0, rejected: 0, written: 0 };
  const transforms = [toSegmentEvent(ctx.ns, ctx.receivedAt, { numbersAreMs: format.name === 'segments' })];
  const meta = { region, arrived: ctx.arrived };
  // One commit may be pending while the next batch is parsed: parsing and the store overlap.
  let pending: Promise<void> | undefined;
  const settle = async () => {
    const p = pending;
    pending = undefined;
    await p;
  };
  const handle = async (batch: Batch<unknown>) => {
    const out = await applyTransforms(batch, transforms, counts, controller.signal);
    for (const r of out.rejects) {
      rejected++;
      metrics.eventsRejected.inc({ code: r.code });
      if (errors.length < maxErrors) errors.push({ line: r.line, code: r.code, message: r.message });
    }
    const events = out.items as SegmentEvent[];
    if (events.length === 0) return;
    ctx.charge?.(events.length);
    await settle();
    pending = committer.submit(events, meta).then(() => {
      accepted += events.length;
    });
    // Handled now, rethrown by settle(): a commit that fails while the next chunk is being
    // read must not become an unhandled rejection (which would end the process).
    pending.catch(() => {});
  };

  try {
    // The engine's own steps (framing, tokenizing, the error ledger), called in a loop:
    // a stream pipeline per request costs more than parsing a 100-record body.
    // A gzip body inside the gzip encoding (or sent without it) is decoded too, as the
    // engine decodes any gzip input; the size limit counts the bytes after all decoding.
    let bytes = 0;
    for await (const chunk of autoGunzip(limiter, { name: 'body', signal: controller.signal })) {
      bytes += chunk.length;
      if (bytes > maxBodyBytes) {
        failure ??= tooLarge(maxBodyBytes, accepted);
        break;
      }
      const batch = tokens.push(chunk);
      if (batch) await handle(batch);
    }
    if (failure) throw failure;
    for (const batch of tokens.end()) await handle(batch);
    await settle();
  } catch (e) {
    // A commit already handed over still counts: wait for it, so `accepted` is exact.
    await settle().catch(() => {});
    if (failure === 'client-gone') throw new ClientGone();
    let err = failure ?? toHttpError(e);
    if (!failure && isSluiceError(e) && e.code === 'SLUICE_E_SINK') {
      err = new HttpError('SLUICE_E_SINK', e.message, { headers: { 'Retry-After': '1' }, cause: e });
    }
    // What was made durable before the failure stays applied; the client is told how much.
    err.extra.accepted = accepted;
    err.extra.rejected = rejected;
    throw err;
  } finally {
    req.off('close', onClose);
    req.unpipe();
    metrics.eventsAccepted.inc(accepted);
  }
  return { accepted, rejected, errors };
}

/** The client went away mid-body: there is no one to answer. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}
