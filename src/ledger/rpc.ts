/**
 * @module
 * What the ledger's RPC methods take and answer. Errors do not keep their type across RPC, so
 * failures travel as data; the constructors here build the ones several parts share.
 */
import { type Failure, PayError } from '../errors'
import type { OrderRecord } from './record'

/** An RPC answer: errors do not keep their type across RPC, so failures travel as data. */
export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure }

/** A placement as the route prepared it: the unifiedorder fields and what the record keeps. */
export type PlaceRequest = {
  out_trade_no: string
  /** Sent to /pay/unifiedorder as they are, appid included (the client adds mch_id, nonce_str, sign). */
  fields: Record<string, string>
  /** The order's fingerprint first; then any older form a record from before may carry. */
  fingerprints: string[]
  record: Pick<OrderRecord, 'appid' | 'trade_type' | 'body' | 'total_fee' | 'openid' | 'attach' | 'notify_url'>
  /** How long the prepay_id WeChat returns stays usable (ms). */
  validityMs: number
}

/** A refund as the route prepared it. */
export type RefundRequest = {
  out_trade_no: string
  out_refund_no: string
  refund_fee: number
  refund_desc?: string
  /** Where the refund's result is relayed; the order's notify_url when absent. */
  notify_url?: string
  /** Where WeChat sends the refund notification: this service's /v1/pay/notify/refund. */
  wechat_notify_url: string
}

/** What /v1/pay/refund answers. */
export type RefundAnswer = {
  out_trade_no: string
  out_refund_no: string
  refund_id: string
  refund_fee: number
  total_fee: number
  refund_status: string
}

/** Why a notification was not taken; each is logged, and WeChat is told to retry (FAIL). */
export type Refusal =
  | 'internal'
  | 'unknown_order'
  | 'unknown_refund'
  | 'amount_mismatch'
  | 'transaction_mismatch'
  | 'appid_mismatch'
  | 'not_confirmed'
  | 'relay_failed'

export type Outcome =
  | { ok: true; duplicate: boolean; status?: number }
  | { ok: false; reason: Refusal; message: string; detail?: Record<string, string | number> }

/** A refusal in WeChat's own terms (its err_code), as the routes answer it. */
export function wechat(errCode: string, message: string): Result<never> {
  return { ok: false, failure: { kind: 'wechat', errCode, message } }
}

/** A PayError as a failed answer; anything else is a bug and stays thrown. */
export function failure(err: unknown): Result<never> {
  if (err instanceof PayError) return { ok: false, failure: err.failure }
  throw err
}
