/**
 * @module
 * The keys that may sign WeChat's replies and notifications, by `Wechatpay-Serial` (v3 reference
 * §1.3, §4.4, §4.5). Public-key mode: exactly one, the configured `PUB_KEY_ID_…`. Platform-certificate
 * mode: the certificates of `GET /v3/certificates`, kept per isolate and in KV (key `v3-certs`), fetched
 * again (at most once a minute) when a serial arrives that neither knows. Never "try every key".
 */
import type { V3Config } from '../../config'
import { fail } from '../../errors'
import { importPublicKey, KeyError } from './crypto'
import type { KeyRing } from './sign'

/** The KV operations used here: `env.ORDERS` fits. */
export type KeyValue = {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
}

/** A platform certificate, decrypted (PEM), with the times WeChat states for it. */
export type PlatformCertificate = { serial_no: string; effective_time: string; expire_time: string; pem: string }

/** The KV key holding the platform certificates (JSON array of {@link PlatformCertificate}). */
export const CERTIFICATES_KEY = 'v3-certs'

/** An unknown serial triggers a download at most this often per isolate (issue 16: once a minute). */
export const REFRESH_INTERVAL_MS = 60_000

type Held = {
  certificates: Map<string, PlatformCertificate>
  /** The one KV read of this isolate. */
  loading?: Promise<void>
  /** The download in flight, if any. */
  downloading?: Promise<void> | undefined
  downloadedAt: number
}

// Per isolate, per merchant and API host: clients are made per request, the certificates outlive them.
const held = new Map<string, Held>()

export type KeyRingOptions = {
  v3: V3Config
  /** Which merchant and host the certificates belong to (several configurations may share an isolate). */
  scope: string
  kv?: KeyValue | undefined
  /** Downloads and verifies the current certificates (`GET /v3/certificates`). */
  download: () => Promise<PlatformCertificate[]>
  now: () => number
}

/**
 * @example const keys = createKeyRing({ v3, scope: mchId, kv: env.ORDERS, download, now: Date.now }); await keys.keyFor(serial)
 */
export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { v3 } = options
  if (v3.publicKey) {
    const { id, pem } = v3.publicKey
    return {
      async keyFor(serial) {
        if (serial !== id) return undefined
        try {
          return await importPublicKey(pem)
        } catch (err) {
          if (err instanceof KeyError) throw fail('config', `WXPAY_PUBLIC_KEY: ${err.message}`)
          throw err
        }
      },
    }
  }
  return certificateRing(options)
}

function certificateRing({ scope, kv, download, now }: KeyRingOptions): KeyRing {
  const state: Held = held.get(scope) ?? { certificates: new Map(), downloadedAt: Number.NEGATIVE_INFINITY }
  held.set(scope, state)

  const usable = (serial: string) => {
    const certificate = state.certificates.get(serial)
    // A certificate past its expire_time no longer speaks for WeChat.
    if (!certificate || Date.parse(certificate.expire_time) <= now()) return undefined
    return certificate
  }

  return {
    async keyFor(received) {
      const serial = received.toUpperCase()
      // Concurrent replies share one KV read and one download rather than racing past each other.
      if (!usable(serial) && kv) {
        state.loading ??= kv.get(CERTIFICATES_KEY).then(
          (text) => {
            for (const certificate of parse(text)) state.certificates.set(certificate.serial_no, certificate)
          },
          // KV unreadable: as if empty; the certificates are downloaded.
          () => undefined,
        )
        await state.loading
      }
      if (!usable(serial) && state.downloading) await state.downloading.catch(() => undefined)
      if (!usable(serial) && now() - state.downloadedAt >= REFRESH_INTERVAL_MS) {
        state.downloadedAt = now()
        state.downloading = (async () => {
          for (const certificate of await download()) state.certificates.set(certificate.serial_no, certificate)
          const kept = [...state.certificates.values()].filter((c) => usable(c.serial_no))
          await kv?.put(CERTIFICATES_KEY, JSON.stringify(kept))
        })()
        try {
          await state.downloading
        } finally {
          state.downloading = undefined
        }
      }
      const certificate = usable(serial)
      // A damaged record is as good as none.
      return certificate ? importPublicKey(certificate.pem).catch(() => undefined) : undefined
    },
  }
}

function parse(text: string | null): PlatformCertificate[] {
  if (text === null) return []
  try {
    const list = JSON.parse(text) as unknown
    if (!Array.isArray(list)) return []
    return list.filter(
      (c): c is PlatformCertificate =>
        typeof c === 'object' &&
        c !== null &&
        ['serial_no', 'effective_time', 'expire_time', 'pem'].every(
          (name) => typeof (c as Record<string, unknown>)[name] === 'string',
        ),
    )
  } catch {
    // A damaged record is as good as none: the certificates are downloaded again.
    return []
  }
}
