import type { Db } from '../db/client.js'
import type { Campaign } from '../generated/prisma/client.js'
import { badInput, notFound } from './errors.js'

/** The company's campaign, or NOT_FOUND (another company's id answers the same). */
export async function findCampaign(db: Db, companyId: string, id: string, field = 'id'): Promise<Campaign> {
  const campaign = await db.campaign.findFirst({ where: { id, companyId } })
  if (!campaign) throw notFound('campaign', field)
  return campaign
}

function campaignName(raw: string): string {
  const name = raw.trim()
  if (!name) throw badInput('name', 'must not be empty')
  if (name.length > 200) throw badInput('name', 'must be at most 200 characters')
  return name
}

export async function createCampaign(db: Db, companyId: string, input: { name: string }): Promise<Campaign> {
  return db.campaign.create({ data: { companyId, name: campaignName(input.name) } })
}

export async function updateCampaign(db: Db, companyId: string, input: { id: string; name?: string | null }): Promise<Campaign> {
  await findCampaign(db, companyId, input.id)
  return db.campaign.update({
    where: { id: input.id },
    data: input.name != null ? { name: campaignName(input.name) } : {},
  })
}

/** Archived campaigns keep their calls and webhooks but take no new calls. */
export async function archiveCampaign(db: Db, companyId: string, input: { id: string }): Promise<Campaign> {
  const campaign = await findCampaign(db, companyId, input.id)
  if (campaign.archivedAt) return campaign
  return db.campaign.update({ where: { id: input.id }, data: { archivedAt: new Date() } })
}
