/**
 * @module
 * Messages for the codec benchmark: the published WeChat Pay v2 samples the codec tests use
 * (test/wechat/samples.ts, verbatim from the reference §10) — the payment notification (§10.6),
 * the orderquery reply (§10.4) and the unifiedorder request's fields (§10.1).
 */
import { SAMPLES } from '../../test/wechat/samples.ts'

function sample(prefix) {
  const found = SAMPLES.find((s) => s.name.startsWith(prefix))
  if (!found) throw new Error(`no sample named ${prefix}…`)
  return found
}

export const NOTIFICATION_XML = sample('10.6 payment notification').xml
export const ORDERQUERY_XML = sample('10.4 orderquery reply').xml
export const UNIFIEDORDER_FIELDS = Object.freeze({ ...sample('10.1 unifiedorder request').fields })
