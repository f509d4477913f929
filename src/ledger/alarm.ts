/**
 * @module
 * The ledger's one Durable Object alarm, kept at the earliest due task. The time last set is
 * cached per instance so an unchanged alarm costs no storage call.
 */

export class Alarm {
  /** The alarm time as last set here; `undefined` until read from storage. */
  private at: number | null | undefined

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Sets the alarm to `at` (ms), or deletes it (`null`). */
  async set(at: number | null): Promise<void> {
    if (this.at === undefined) this.at = await this.storage.getAlarm()
    if (at === this.at) return
    if (at === null) await this.storage.deleteAlarm()
    else await this.storage.setAlarm(at)
    this.at = at
  }

  /** The alarm is known to be `at` without asking storage (empty storage has none). */
  known(at: number | null): void {
    this.at ??= at
  }

  /** The alarm fired: it is no longer set. */
  fired(): void {
    this.at = null
  }
}
