import { expect } from 'vitest'

/** Every name an object inherits, walking its whole prototype chain. */
export function inherited(object: object): PropertyKey[] {
  const names: PropertyKey[] = []
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    expect(Object.isFrozen(proto)).toBe(true)
    names.push(...Reflect.ownKeys(proto))
  }
  return names
}
