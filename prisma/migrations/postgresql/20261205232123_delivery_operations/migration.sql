-- AlterTable
ALTER TABLE "Company" ADD COLUMN     "callRetentionDays" INTEGER,
ADD COLUMN     "operatorSigningSecret" TEXT,
ADD COLUMN     "operatorUrl" TEXT,
ADD COLUMN     "pixelRetentionDays" INTEGER,
ADD COLUMN     "postbackRetentionDays" INTEGER;

-- AlterTable
ALTER TABLE "Pixel" ADD COLUMN     "replayJobId" TEXT,
ADD COLUMN     "replayOfId" TEXT;

-- AlterTable
ALTER TABLE "Webhook" ADD COLUMN     "circuitBreaker" JSONB,
ADD COLUMN     "circuitChangedAt" TIMESTAMP(3),
ADD COLUMN     "circuitProbeAt" TIMESTAMP(3),
ADD COLUMN     "circuitReason" TEXT,
ADD COLUMN     "circuitState" TEXT NOT NULL DEFAULT 'CLOSED',
ADD COLUMN     "circuitTrips" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "failingSince" TIMESTAMP(3),
ADD COLUMN     "maxInFlight" INTEGER,
ADD COLUMN     "maxPerSecond" INTEGER;

-- CreateTable
CREATE TABLE "HealthBucket" (
    "companyId" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
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
    "latencySumMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
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
    "lastSuccessAt" TIMESTAMP(3),
    "lastFailureAt" TIMESTAMP(3),

    CONSTRAINT "HealthBucket_pkey" PRIMARY KEY ("webhookId","origin","period","bucketStart")
);

-- CreateTable
CREATE TABLE "WebhookHealthEvent" (
    "id" TEXT NOT NULL,
    "companyId" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "from" TEXT NOT NULL,
    "to" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "notifiedAt" TIMESTAMP(3),
    "notifyAttempts" INTEGER NOT NULL DEFAULT 0,
    "notifyError" TEXT,

    CONSTRAINT "WebhookHealthEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReplayJob" (
    "id" TEXT NOT NULL,
    "companyId" TEXT NOT NULL,
    "filter" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "done" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "upTo" TIMESTAMP(3) NOT NULL,
    "cursorCreatedAt" TIMESTAMP(3),
    "cursorId" TEXT,
    "activeKey" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ReplayJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RetentionRun" (
    "id" TEXT NOT NULL,
    "companyId" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "postbacks" INTEGER NOT NULL DEFAULT 0,
    "pixels" INTEGER NOT NULL DEFAULT 0,
    "calls" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "RetentionRun_pkey" PRIMARY KEY ("id")
);

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
