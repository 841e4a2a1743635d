import type { Campaign } from '../generated/prisma/client.js'
import { notFound } from '../core/errors.js'
import { checkName } from '../core/text.js'
import type { Db } from '../core/db.js'

/** The company's campaign, or NOT_FOUND (another company's id answers the same). */
export async function findCampaign(db: Db, companyId: string, id: string, field = 'id'): Promise<Campaign> {
  const campaign = await db.campaign.findFirst({ where: { id, companyId } })
  if (!campaign) throw notFound('campaign', field)
  return campaign
}

export async function createCampaign(db: Db, companyId: string, input: { name: string }): Promise<Campaign> {
  return db.campaign.create({ data: { companyId, name: checkName(input.name) } })
}

export async function updateCampaign(db: Db, companyId: string, input: { id: string; name?: string | null }): Promise<Campaign> {
  await findCampaign(db, companyId, input.id)
  return db.campaign.update({
    where: { id: input.id },
    data: input.name != null ? { name: checkName(input.name) } : {},
  })
}

/** Archived campaigns keep their calls and webhooks but take no new calls. */
export async function archiveCampaign(db: Db, companyId: string, input: { id: string }): Promise<Campaign> {
  const campaign = await findCampaign(db, companyId, input.id)
  if (campaign.archivedAt) return campaign
  return db.campaign.update({ where: { id: input.id }, data: { archivedAt: new Date() } })
}
