-- DropIndex
DROP INDEX "Call_campaignId_startedAt_idx";

-- DropIndex
DROP INDEX "Call_companyId_callerNumber_startedAt_idx";

-- CreateIndex
CREATE INDEX "Call_companyId_callerNumber_startedAt_id_idx" ON "Call"("companyId", "callerNumber", "startedAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Call_campaignId_startedAt_id_idx" ON "Call"("campaignId", "startedAt" DESC, "id" DESC);
