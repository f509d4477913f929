/**
 * @module
 * What the v3 sandbox knows, read from the environment once per isolate. Like WeChat, it holds its
 * own "WeChat Pay" key pair (test-only dev vars) and what the merchant registered with it:
 *
 * | variable | what |
 * |---|---|
 * | `SANDBOX_V3_PRIVATE_KEY` | the sandbox's own private key (PEM): signs replies and notifications |
 * | `SANDBOX_V3_PUBLIC_KEY_ID` | its 微信支付公钥ID (`PUB_KEY_ID_…`), the Wechatpay-Serial of public-key mode |
 * | `SANDBOX_V3_CERTIFICATE` | a self-signed X.509 certificate of the same key: the platform certificate of certificate mode |
 * | `SANDBOX_V3_MERCHANT_PUBLIC_KEY` | optional: the merchant's public key (PEM); otherwise derived from `WXPAY_PRIVATE_KEY` |
 * | `WXPAY_MCH_ID`, `WXPAY_APPID`, `WXPAY_MCH_SERIAL`, `WXPAY_APIV3_KEY` | the merchant, as the service is configured |
 * | `WXPAY_PUBLIC_KEY_ID` | set: the merchant is in public-key mode (it must name the sandbox's key); unset: certificate mode |
 *
 * A missing or malformed variable is a {@link SettingsError} naming it, never its value.
 */
import { importPrivateKey, importPublicKey, pemToDer } from '../../wechat/v3/crypto'
import { type CertificateInfo, publicKeyOf, readCertificate } from './crypto'

export type Settings = {
  mchId: string
  /** The merchant's appids (WXPAY_APPID, comma-separated as the service reads it); the first is the default. */
  appids: string[]
  /** The merchant API certificate serial (upper case), the Authorization `serial_no`. */
  merchantSerial: string
  merchantKey: CryptoKey
  apiV3Key: string
  wechatKey: CryptoKey
  publicKeyId: string
  certificatePem: string
  certificate: CertificateInfo
  /** Which serial notifications carry: the merchant's mode. */
  mode: 'publicKey' | 'certificate'
}

/** A sandbox variable that is missing or malformed; the message names it. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError'
}

const cache = new Map<string, Promise<Settings>>()

const NAMES = [
  'SANDBOX_V3_PRIVATE_KEY',
  'SANDBOX_V3_PUBLIC_KEY_ID',
  'SANDBOX_V3_CERTIFICATE',
  'SANDBOX_V3_MERCHANT_PUBLIC_KEY',
  'WXPAY_MCH_ID',
  'WXPAY_APPID',
  'WXPAY_MCH_SERIAL',
  'WXPAY_APIV3_KEY',
  'WXPAY_PRIVATE_KEY',
  'WXPAY_PUBLIC_KEY_ID',
] as const

/**
 * The sandbox's settings; keys are imported once per isolate for the same variables.
 * @throws {SettingsError} naming the first variable that is missing or malformed.
 */
export function loadSettings(env: Env): Promise<Settings> {
  const key = NAMES.map((name) => raw(env, name) ?? '').join('\u0000')
  let settings = cache.get(key)
  if (!settings) {
    settings = read(env)
    // A failed read is not cached: the next request reports it again (and sees a fix).
    settings.catch(() => cache.delete(key))
    if (cache.size >= 4) cache.clear()
    cache.set(key, settings)
  }
  return settings
}

async function read(env: Env): Promise<Settings> {
  const wechatKey = await importPrivateKey(required(env, 'SANDBOX_V3_PRIVATE_KEY')).catch(() => {
    throw new SettingsError('SANDBOX_V3_PRIVATE_KEY must be an RSA private key in PEM')
  })
  const publicKeyId = text(env, 'SANDBOX_V3_PUBLIC_KEY_ID', /^PUB_KEY_ID_[0-9]{1,64}$/, 'PUB_KEY_ID_ and digits')
  const certificatePem = required(env, 'SANDBOX_V3_CERTIFICATE').trim()
  let certificate: CertificateInfo
  try {
    const { label, der } = pemToDer(certificatePem)
    if (label !== 'CERTIFICATE') throw new Error('not a certificate')
    certificate = readCertificate(der)
  } catch {
    throw new SettingsError('SANDBOX_V3_CERTIFICATE must be an X.509 certificate in PEM')
  }
  const merchantId = raw(env, 'WXPAY_PUBLIC_KEY_ID')
  if (merchantId !== undefined && merchantId !== publicKeyId) {
    throw new SettingsError('WXPAY_PUBLIC_KEY_ID must be the sandbox public key ID (SANDBOX_V3_PUBLIC_KEY_ID)')
  }
  return {
    mchId: text(env, 'WXPAY_MCH_ID', /^[0-9]{1,32}$/, 'a merchant number of up to 32 digits'),
    appids: text(
      env,
      'WXPAY_APPID',
      /^[A-Za-z0-9_]{1,32}(,[A-Za-z0-9_]{1,32})*$/,
      'appids of up to 32 letters and digits, comma-separated',
    ).split(','),
    merchantSerial: text(env, 'WXPAY_MCH_SERIAL', /^[0-9A-Fa-f]{8,40}$/, 'a certificate serial in hex').toUpperCase(),
    merchantKey: await merchantKey(env),
    apiV3Key: text(env, 'WXPAY_APIV3_KEY', /^[0-9A-Za-z]{32}$/, '32 letters and digits'),
    wechatKey,
    publicKeyId,
    certificatePem,
    certificate,
    mode: merchantId === undefined ? 'certificate' : 'publicKey',
  }
}

/** The merchant's public key: given, or the public half of the merchant's own dev private key. */
async function merchantKey(env: Env): Promise<CryptoKey> {
  const given = raw(env, 'SANDBOX_V3_MERCHANT_PUBLIC_KEY')
  if (given !== undefined) {
    return importPublicKey(given).catch(() => {
      throw new SettingsError('SANDBOX_V3_MERCHANT_PUBLIC_KEY must be an RSA public key in PEM')
    })
  }
  return publicKeyOf(required(env, 'WXPAY_PRIVATE_KEY', 'or SANDBOX_V3_MERCHANT_PUBLIC_KEY')).catch(() => {
    throw new SettingsError('WXPAY_PRIVATE_KEY must be an RSA private key in PEM')
  })
}

function raw(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function required(env: Env, name: string, alternative = ''): string {
  const value = raw(env, name)
  if (value === undefined) {
    throw new SettingsError(
      `${name} is not set${alternative ? ` (${alternative})` : ''}: see README "The built-in sandbox"`,
    )
  }
  return value
}

function text(env: Env, name: string, pattern: RegExp, rule: string): string {
  const value = required(env, name)
  if (!pattern.test(value)) throw new SettingsError(`${name} must be ${rule}`)
  return value
}
