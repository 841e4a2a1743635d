import { createApiKey } from './createApiKey.js'
import { checkName } from '../core/text.js'
import type { Db } from '../core/db.js'

export interface CreatedCompany {
  companyId: string
  adminKey: string
  publisherKey: string
}

/** Operator command: a company with one admin and one publisher key (secrets returned once), in one transaction. */
export async function createCompany(db: Db, name: string): Promise<CreatedCompany> {
  const checked = checkName(name)
  return db.$transaction(async (tx) => {
    const company = await tx.company.create({ data: { name: checked } })
    const admin = await createApiKey(tx, company.id, { name: 'admin', role: 'ADMIN' })
    const publisher = await createApiKey(tx, company.id, { name: 'publisher', role: 'PUBLISHER' })
    return { companyId: company.id, adminKey: admin.secret, publisherKey: publisher.secret }
  })
}
