-- AlterTable
ALTER TABLE "Company" ADD COLUMN "callRetentionDays" INTEGER;
ALTER TABLE "Company" ADD COLUMN "operatorSigningSecret" TEXT;
ALTER TABLE "Company" ADD COLUMN "operatorUrl" TEXT;
ALTER TABLE "Company" ADD COLUMN "pixelRetentionDays" INTEGER;
ALTER TABLE "Company" ADD COLUMN "postbackRetentionDays" INTEGER;

-- AlterTable
ALTER TABLE "Pixel" ADD COLUMN "replayJobId" TEXT;
ALTER TABLE "Pixel" ADD COLUMN "replayOfId" TEXT;

-- CreateTable
CREATE TABLE "HealthBucket" (
    "companyId" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "bucketStart" DATETIME NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "successes" INTEGER NOT NULL DEFAULT 0,
    "timeouts" INTEGER NOT NULL DEFAULT 0,
    "networkErrors" INTEGER NOT NULL DEFAULT 0,
    "http4xx" INTEGER NOT NULL DEFAULT 0,
    "http429" INTEGER NOT NULL DEFAULT 0,
    "http5xx" INTEGER NOT NULL DEFAULT 0,
    "httpOther" INTEGER NOT NULL DEFAULT 0,
    "refused" INTEGER NOT NULL DEFAULT 0,
    "answered" INTEGER NOT NULL DEFAULT 0,
    "latencySumMs" REAL NOT NULL DEFAULT 0,
    "le5" INTEGER NOT NULL DEFAULT 0,
    "le10" INTEGER NOT NULL DEFAULT 0,
    "le25" INTEGER NOT NULL DEFAULT 0,
    "le50" INTEGER NOT NULL DEFAULT 0,
    "le75" INTEGER NOT NULL DEFAULT 0,
    "le100" INTEGER NOT NULL DEFAULT 0,
    "le150" INTEGER NOT NULL DEFAULT 0,
    "le250" INTEGER NOT NULL DEFAULT 0,
    "le400" INTEGER NOT NULL DEFAULT 0,
    "le600" INTEGER NOT NULL DEFAULT 0,
    "le1000" INTEGER NOT NULL DEFAULT 0,
    "le1500" INTEGER NOT NULL DEFAULT 0,
    "le2500" INTEGER NOT NULL DEFAULT 0,
    "le5000" INTEGER NOT NULL DEFAULT 0,
    "le10000" INTEGER NOT NULL DEFAULT 0,
    "leInf" INTEGER NOT NULL DEFAULT 0,
    "lastSuccessAt" DATETIME,
    "lastFailureAt" DATETIME,

    PRIMARY KEY ("webhookId", "origin", "period", "bucketStart")
);

-- CreateTable
CREATE TABLE "WebhookHealthEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "companyId" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "notifiedAt" DATETIME,
    "notifyAttempts" INTEGER NOT NULL DEFAULT 0,
    "notifyError" TEXT
);

-- CreateTable
CREATE TABLE "ReplayJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "companyId" TEXT NOT NULL,
    "filter" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "done" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "upTo" DATETIME NOT NULL,
    "cursorCreatedAt" DATETIME,
    "cursorId" TEXT,
    "activeKey" TEXT,
    "error" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "RetentionRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "companyId" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "postbacks" INTEGER NOT NULL DEFAULT 0,
    "pixels" INTEGER NOT NULL DEFAULT 0,
    "calls" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Webhook" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "companyId" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "timerSeconds" INTEGER,
    "matches" JSONB NOT NULL,
    "method" TEXT NOT NULL,
    "urlTemplate" TEXT NOT NULL,
    "headers" JSONB NOT NULL,
    "bodyTemplate" TEXT,
    "bodyType" TEXT NOT NULL DEFAULT 'JSON',
    "timeoutMs" INTEGER NOT NULL DEFAULT 5000,
    "maxAttempts" INTEGER NOT NULL DEFAULT 5,
    "retryBaseDelayMs" INTEGER NOT NULL DEFAULT 1000,
    "responseMapping" JSONB,
    "dedupeWindowSeconds" INTEGER,
    "signingSecret" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "deletedAt" DATETIME,
    "circuitState" TEXT NOT NULL DEFAULT 'CLOSED',
    "circuitChangedAt" DATETIME,
    "circuitReason" TEXT,
    "circuitProbeAt" DATETIME,
    "circuitTrips" INTEGER NOT NULL DEFAULT 0,
    "failingSince" DATETIME,
    "circuitBreaker" JSONB,
    "maxPerSecond" INTEGER,
    "maxInFlight" INTEGER,
    CONSTRAINT "Webhook_companyId_fkey" FOREIGN KEY ("companyId") REFERENCES "Company" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Webhook_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Webhook" ("bodyTemplate", "bodyType", "campaignId", "companyId", "createdAt", "dedupeWindowSeconds", "deletedAt", "enabled", "headers", "id", "matches", "maxAttempts", "method", "name", "responseMapping", "retryBaseDelayMs", "signingSecret", "timeoutMs", "timerSeconds", "trigger", "updatedAt", "urlTemplate") SELECT "bodyTemplate", "bodyType", "campaignId", "companyId", "createdAt", "dedupeWindowSeconds", "deletedAt", "enabled", "headers", "id", "matches", "maxAttempts", "method", "name", "responseMapping", "retryBaseDelayMs", "signingSecret", "timeoutMs", "timerSeconds", "trigger", "updatedAt", "urlTemplate" FROM "Webhook";
DROP TABLE "Webhook";
ALTER TABLE "new_Webhook" RENAME TO "Webhook";
CREATE INDEX "Webhook_campaignId_trigger_idx" ON "Webhook"("campaignId", "trigger");
CREATE INDEX "Webhook_companyId_createdAt_idx" ON "Webhook"("companyId", "createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "HealthBucket_companyId_origin_period_bucketStart_idx" ON "HealthBucket"("companyId", "origin", "period", "bucketStart");

-- CreateIndex
CREATE INDEX "HealthBucket_period_bucketStart_idx" ON "HealthBucket"("period", "bucketStart");

-- CreateIndex
CREATE INDEX "WebhookHealthEvent_webhookId_createdAt_idx" ON "WebhookHealthEvent"("webhookId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "WebhookHealthEvent_companyId_createdAt_idx" ON "WebhookHealthEvent"("companyId", "createdAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "ReplayJob_activeKey_key" ON "ReplayJob"("activeKey");

-- CreateIndex
CREATE INDEX "ReplayJob_companyId_createdAt_idx" ON "ReplayJob"("companyId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "RetentionRun_companyId_startedAt_idx" ON "RetentionRun"("companyId", "startedAt" DESC);

-- CreateIndex
CREATE INDEX "Pixel_campaignId_createdAt_idx" ON "Pixel"("campaignId", "createdAt");

-- CreateIndex
CREATE INDEX "Pixel_replayJobId_idx" ON "Pixel"("replayJobId");
