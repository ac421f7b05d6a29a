#!/usr/bin/env node
// Local Kinesis stand-in for the tests and the demo: kinesalite, bound to the
// loopback interface only, with every request's AWS Signature Version 4
// checked before kinesalite sees it.
//
// kinesalite itself only looks whether an Authorization header is present. We
// want the tests to prove that the project's own signer produces signatures
// the real service would accept, so each request is signed again here with an
// independent implementation (@smithy/signature-v4) and the configured secret
// key, and the two signatures are compared.
//
// Usage:
//   node kinesalite.js --port P [--path DIR] [--secret S] [--service NAME] [--no-verify]
//
//   --port P        TCP port on 127.0.0.1 (0 picks a free one; the port is
//                   then written to stderr)
//   --path DIR      keep the streams in a LevelDB under DIR (default: memory)
//   --secret S      secret access key requests must be signed with
//                   (default: $KC_STANDIN_SECRET, else "kc-test-secret");
//                   any access key id is accepted
//   --service NAME  signing name the credential scope must carry
//                   (default "kinesis")
//   --no-verify     accept any request kinesalite accepts
//                   (also: KC_STANDIN_VERIFY=0)
//
// Prints "ready" on stdout once it accepts connections. SIGTERM/SIGINT close
// the database and exit 0.
//
// Rejections use the error shape kinesalite and Kinesis use for JSON 1.1
// (HTTP 400, {"__type": "...Exception", "message": "..."}) and the error
// types Kinesis uses:
//   MissingAuthenticationTokenException  no Authorization header at all
//   IncompleteSignatureException         Authorization header not parseable
//   InvalidSignatureException            anything else: wrong algorithm,
//       scope or date, a required header left unsigned, a signed header
//       missing, a body that does not match x-amz-content-sha256, or a
//       signature that differs from the one computed here.
// Each rejection is also logged as one line on stderr. Requests other than
// POST cannot reach any operation and are left to kinesalite, which refuses
// them with AccessDeniedException (HTTP 403), as Kinesis does.
//
// Limits, on purpose: only header authentication with X-Amz-Date is checked
// (no presigned query strings, no Date-only signing, no chunked payload
// signing); Kinesis clients use none of these. The request time is not
// compared with the clock.
'use strict'

const http = require('node:http')
const crypto = require('node:crypto')
const { PassThrough } = require('node:stream')
const { parseArgs } = require('node:util')
const kinesalite = require('kinesalite')
const { SignatureV4 } = require('@smithy/signature-v4')
const { Sha256 } = require('@aws-crypto/sha256-js')

const ALGORITHM = 'AWS4-HMAC-SHA256'
const DEFAULT_SECRET = 'kc-test-secret'
// kinesalite refuses bodies above 7 MiB; stop buffering a little after that.
const MAX_BODY_BYTES = 7 * 1024 * 1024 + 1
const EMPTY_SHA256 = crypto.createHash('sha256').digest('hex')

// ---------------------------------------------------------------- options

function usage(message) {
  if (message) process.stderr.write(`kinesalite.js: ${message}\n`)
  process.stderr.write('usage: node kinesalite.js --port P [--path DIR] [--secret S] ' +
    '[--service NAME] [--no-verify]\n')
  process.exit(2)
}

function readOptions() {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        path: { type: 'string' },
        secret: { type: 'string' },
        service: { type: 'string' },
        'no-verify': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (err) {
    usage(err.message)
  }
  if (parsed.help) usage()
  if (parsed.port === undefined) usage('--port is required')
  if (!/^\d+$/.test(parsed.port) || Number(parsed.port) > 65535) usage(`bad --port ${parsed.port}`)

  const envVerify = (process.env.KC_STANDIN_VERIFY || '').toLowerCase()
  const verifyOffByEnv = ['0', 'false', 'no', 'off'].includes(envVerify)
  const secret = parsed.secret ?? process.env.KC_STANDIN_SECRET ?? DEFAULT_SECRET
  if (secret === '') usage('the secret key must not be empty')

  return {
    port: Number(parsed.port),
    path: parsed.path,
    secret,
    service: parsed.service || 'kinesis',
    verify: !(parsed['no-verify'] || verifyOffByEnv),
  }
}

// ------------------------------------------------------- request parsing

// Header name (lower case) -> value as SigV4 canonicalises it: each value
// trimmed, repeated headers joined with commas in the order they arrived.
function collectHeaders(rawHeaders) {
  const values = new Map()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    const value = rawHeaders[i + 1].trim()
    if (values.has(name)) values.get(name).push(value)
    else values.set(name, [value])
  }
  const headers = {}
  for (const [name, list] of values) headers[name] = list.join(',')
  return headers
}

// "/p?a=1&b=x%20y" -> { path: "/p", query: { a: "1", b: "x y" } }. The path
// stays as sent (the signer encodes it again, as SigV4 requires for every
// service but S3); query values are decoded because the signer encodes them.
function splitTarget(target) {
  const at = target.indexOf('?')
  const path = at < 0 ? target : target.slice(0, at)
  const query = {}
  if (at >= 0) {
    for (const part of target.slice(at + 1).split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      const key = decodeComponent(eq < 0 ? part : part.slice(0, eq))
      const value = decodeComponent(eq < 0 ? '' : part.slice(eq + 1))
      if (key in query) query[key] = [].concat(query[key], value)
      else query[key] = value
    }
  }
  return { path: path || '/', query }
}

function decodeComponent(text) {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

class AuthError extends Error {
  constructor(type, message, detail) {
    super(message)
    this.type = type
    // Short form for the log line; the message may span lines.
    this.detail = detail || message
  }
}

// "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/kinesis/aws4_request,
//  SignedHeaders=a;b, Signature=hex" -> its parts.
function parseAuthorization(header) {
  const space = header.indexOf(' ')
  if (space < 0) {
    throw new AuthError('IncompleteSignatureException',
      `Authorization header is not of the form "${ALGORITHM} Credential=..., SignedHeaders=..., Signature=..."`)
  }
  const algorithm = header.slice(0, space)
  const fields = {}
  for (const item of header.slice(space + 1).split(',')) {
    const text = item.trim()
    if (text === '') continue
    const eq = text.indexOf('=')
    if (eq < 0) {
      throw new AuthError('IncompleteSignatureException',
        `Authorization header has a component without "=": "${text}"`)
    }
    fields[text.slice(0, eq).trim()] = text.slice(eq + 1).trim()
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields[k])
  if (missing.length) {
    throw new AuthError('IncompleteSignatureException',
      `Authorization header lacks ${missing.join(', ')}`)
  }
  if (algorithm !== ALGORITHM) {
    throw new AuthError('InvalidSignatureException',
      `unsupported signing algorithm "${algorithm}"; expected ${ALGORITHM}`)
  }
  const scope = fields.Credential.split('/')
  if (scope.length !== 5 || scope.some((s) => s === '') || scope[4] !== 'aws4_request') {
    throw new AuthError('IncompleteSignatureException',
      `Credential "${fields.Credential}" is not of the form KEYID/YYYYMMDD/REGION/SERVICE/aws4_request`)
  }
  const signedHeaders = fields.SignedHeaders.split(';')
  const normalised = signedHeaders.map((h) => h.toLowerCase()).sort()
  if (signedHeaders.join(';') !== normalised.join(';') || new Set(signedHeaders).size !== signedHeaders.length) {
    throw new AuthError('InvalidSignatureException',
      `SignedHeaders "${fields.SignedHeaders}" must be lower case, sorted and without repeats`)
  }
  if (!/^[0-9a-f]{64}$/.test(fields.Signature)) {
    throw new AuthError('InvalidSignatureException',
      `Signature "${fields.Signature}" is not 64 lower-case hex digits`)
  }
  return {
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    signedHeaders,
    signature: fields.Signature,
  }
}

// "20240101T120000Z" -> Date, or null when malformed.
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '')
  if (!m) return null
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
  return Number.isNaN(date.getTime()) ? null : date
}

// A signer that remembers the canonical request it built, so a mismatch can
// be explained. createCanonicalRequest is the signer's own step; the subclass
// only observes its result.
class ExplainingSigner extends SignatureV4 {
  createCanonicalRequest(request, canonicalHeaders, payloadHash) {
    this.lastCanonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash)
    return this.lastCanonicalRequest
  }
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex')
}

// Throws AuthError unless the request carries a valid signature made with
// `secret`.
async function verifyRequest(req, body, { secret, service }) {
  const headers = collectHeaders(req.rawHeaders)
  if (!headers.authorization) {
    if (/[?&]X-Amz-Signature=/i.test(req.url)) {
      throw new AuthError('InvalidSignatureException',
        'query-string (presigned) authentication is not supported by this stand-in; sign the Authorization header')
    }
    throw new AuthError('MissingAuthenticationTokenException', 'Missing Authentication Token',
      'no Authorization header')
  }
  const auth = parseAuthorization(headers.authorization)

  const amzDate = headers['x-amz-date']
  if (amzDate === undefined) {
    throw new AuthError('InvalidSignatureException',
      'the request has no X-Amz-Date header (this stand-in does not verify Date-only signatures)')
  }
  const signingDate = parseAmzDate(amzDate)
  if (!signingDate) {
    throw new AuthError('InvalidSignatureException',
      `X-Amz-Date "${amzDate}" is not of the form YYYYMMDDTHHMMSSZ`)
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new AuthError('InvalidSignatureException',
      `credential scope date ${auth.date} differs from the date of X-Amz-Date ${amzDate}`)
  }
  if (auth.service !== service) {
    throw new AuthError('InvalidSignatureException',
      `credential scope names service "${auth.service}"; requests here must be signed for "${service}"`)
  }

  // Every signed header must be there, and the ones that decide what the
  // request does must be signed.
  const signed = new Set(auth.signedHeaders)
  const absent = auth.signedHeaders.filter((h) => !(h in headers))
  if (absent.length) {
    throw new AuthError('InvalidSignatureException',
      `signed header(s) ${absent.join(', ')} not present in the request`)
  }
  const mustSign = Object.keys(headers).filter((h) => h === 'host' || h.startsWith('x-amz-'))
  const unsigned = mustSign.filter((h) => !signed.has(h)).sort()
  if (!signed.has('host') || unsigned.length) {
    throw new AuthError('InvalidSignatureException',
      `header(s) ${(unsigned.length ? unsigned : ['host']).join(', ')} present but not in SignedHeaders ` +
      `(host and every x-amz-* header must be signed)`)
  }

  // The signer takes x-amz-content-sha256 at its word, so check it against
  // the body first.
  const bodyHash = body.length ? sha256Hex(body) : EMPTY_SHA256
  const declared = headers['x-amz-content-sha256']
  if (declared !== undefined && declared !== bodyHash) {
    throw new AuthError('InvalidSignatureException',
      declared === 'UNSIGNED-PAYLOAD' || declared.startsWith('STREAMING-')
        ? `x-amz-content-sha256 "${declared}" is not accepted: the body must be signed`
        : `x-amz-content-sha256 ${declared} does not match the body's SHA-256 ${bodyHash}`)
  }

  // Rebuild the request from exactly the signed headers and the body.
  const { path, query } = splitTarget(req.url)
  const toSign = {
    method: req.method,
    protocol: 'http:',
    hostname: (headers.host || '').replace(/:\d+$/, ''),
    path,
    query,
    headers: {},
    body: body.length ? body : undefined,
  }
  for (const name of auth.signedHeaders) toSign.headers[name] = headers[name]

  const signer = new ExplainingSigner({
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: secret,
      sessionToken: undefined,
    },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: true,
  })
  // The signer adds X-Amz-Date itself; keep out any header that was not
  // signed, and keep in the signed ones it would otherwise skip (User-Agent,
  // for instance).
  const unsignable = new Set(['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']
    .filter((h) => !signed.has(h)))
  const signedRequest = await signer.sign(toSign, {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: signed,
    unsignableHeaders: unsignable,
  })
  const expected = /Signature=([0-9a-f]{64})/.exec(signedRequest.headers.authorization)[1]
  const expectedHeaders = /SignedHeaders=([^,]*)/.exec(signedRequest.headers.authorization)[1]

  if (expectedHeaders !== auth.signedHeaders.join(';') ||
      !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
    const canonical = signer.lastCanonicalRequest || ''
    const canonicalHash = sha256Hex(canonical)
    const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${canonicalHash}`
    throw new AuthError('InvalidSignatureException',
      'Signature mismatch: the signature computed here from the signed headers, the body and the ' +
      'secret key configured for this stand-in differs from the one in the Authorization header. ' +
      'Either the secret key differs or the request was signed differently. ' +
      `Canonical request computed here (SHA-256 ${canonicalHash}):\n${canonical}\n` +
      `String to sign computed here:\n${stringToSign}`,
      `signature mismatch (canonical request sha256 ${canonicalHash}, ` +
      `scope ${scope}, signed headers ${auth.signedHeaders.join(';')})`)
  }
}

// --------------------------------------------------------------- server

function sendAuthError(req, res, err) {
  const payload = JSON.stringify({ __type: err.type, message: err.message })
  res.statusCode = 400
  res.setHeader('Content-Type', 'application/x-amz-json-1.1')
  res.setHeader('Content-Length', Buffer.byteLength(payload))
  res.setHeader('x-amzn-RequestId', crypto.randomUUID())
  res.end(payload)
  const target = req.headers['x-amz-target'] || `${req.method} ${req.url}`
  process.stderr.write(`kinesalite: ${new Date().toISOString()} rejected ${target} from ` +
    `${req.socket.remoteAddress}: ${err.type}: ${err.detail.replace(/\s+/g, ' ')}\n`)
}

// Hand a fully read request to kinesalite's own handler, which expects to
// read the body from the request stream itself.
function replay(handler, req, res, body) {
  const copy = new PassThrough()
  copy.method = req.method
  copy.url = req.url
  copy.headers = req.headers
  copy.rawHeaders = req.rawHeaders
  copy.httpVersion = req.httpVersion
  copy.socket = req.socket
  handler(copy, res)
  copy.end(body.length ? body : undefined)
}

function main() {
  const options = readOptions()
  const kinesaliteOptions = {
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  }
  if (options.path) kinesaliteOptions.path = options.path

  const server = kinesalite(kinesaliteOptions)
  const handlers = server.listeners('request')
  if (handlers.length !== 1) throw new Error('unexpected kinesalite server layout')
  const kinesaliteHandler = handlers[0]
  server.removeAllListeners('request')

  server.on('request', (req, res) => {
    const chunks = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk) => {
      if (tooLarge) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        tooLarge = true
        res.statusCode = 413
        res.setHeader('Connection', 'close')
        res.end()
        return
      }
      chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (tooLarge) return
      const body = Buffer.concat(chunks, size)
      // Only a POST can name an operation; kinesalite refuses everything else
      // by itself (as Kinesis does), so those go straight through. This is
      // also what the readiness probes hit.
      if (!options.verify || req.method !== 'POST') return replay(kinesaliteHandler, req, res, body)
      verifyRequest(req, body, options).then(
        () => replay(kinesaliteHandler, req, res, body),
        (err) => {
          if (!(err instanceof AuthError)) {
            err = new AuthError('InvalidSignatureException',
              `could not verify the signature: ${err.message}`)
          }
          sendAuthError(req, res, err)
        })
    })
  })

  server.on('error', (err) => {
    process.stderr.write(`kinesalite: ${err.message}\n`)
    process.exit(1)
  })

  server.listen(options.port, '127.0.0.1', () => {
    const { port } = server.address()
    process.stderr.write(`kinesalite: listening on http://127.0.0.1:${port}, ` +
      `${options.path ? `data in ${options.path}` : 'data in memory'}, ` +
      `signature verification ${options.verify ? 'on' : 'off'}\n`)
    process.stdout.write('ready\n')
  })

  let stopping = false
  const stop = (signal) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`kinesalite: ${signal}, stopping\n`)
    setTimeout(() => process.exit(0), 3000).unref()
    server.closeAllConnections()
    server.close(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main()
