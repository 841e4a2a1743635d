// Row ids made in this process (the fast paths write rows without Prisma, which would make a cuid).
import crypto from 'node:crypto'

let counter = 0
const randomPool = Buffer.alloc(8192)
let poolOffset = randomPool.length

/** Time-ordered ids (milliseconds, a per-process counter, randomness), so rows written in one batch keep their order. */
export function newId(): string {
  counter = (counter + 1) % 1_679_616
  // random bytes are taken from a pool: one randomFillSync per 1,365 ids instead of one per id
  if (poolOffset + 6 > randomPool.length) {
    crypto.randomFillSync(randomPool)
    poolOffset = 0
  }
  const random = randomPool.toString('base64url', poolOffset, (poolOffset += 6))
  return `${Date.now().toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${random}`
}
