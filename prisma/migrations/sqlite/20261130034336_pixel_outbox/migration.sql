-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Pixel" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "companyId" TEXT NOT NULL,
    "campaignId" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "callId" TEXT NOT NULL,
    "callerNumber" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "request" JSONB,
    "unresolvedTokens" JSONB,
    "tagsApplied" JSONB,
    "responseNote" TEXT,
    "attemptCount" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME,
    "lockedUntil" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" DATETIME,
    CONSTRAINT "Pixel_companyId_fkey" FOREIGN KEY ("companyId") REFERENCES "Company" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Pixel_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Pixel_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "Webhook" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Pixel_callId_fkey" FOREIGN KEY ("callId") REFERENCES "Call" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Pixel" ("attemptCount", "callId", "campaignId", "companyId", "completedAt", "createdAt", "id", "lockedUntil", "nextAttemptAt", "request", "responseNote", "status", "tagsApplied", "trigger", "unresolvedTokens", "webhookId") SELECT "attemptCount", "callId", "campaignId", "companyId", "completedAt", "createdAt", "id", "lockedUntil", "nextAttemptAt", "request", "responseNote", "status", "tagsApplied", "trigger", "unresolvedTokens", "webhookId" FROM "Pixel";
DROP TABLE "Pixel";
ALTER TABLE "new_Pixel" RENAME TO "Pixel";
CREATE INDEX "Pixel_callId_createdAt_idx" ON "Pixel"("callId", "createdAt");
CREATE INDEX "Pixel_webhookId_createdAt_id_idx" ON "Pixel"("webhookId", "createdAt" DESC, "id" DESC);
CREATE INDEX "Pixel_webhookId_callerNumber_createdAt_idx" ON "Pixel"("webhookId", "callerNumber", "createdAt");
CREATE INDEX "Pixel_companyId_createdAt_idx" ON "Pixel"("companyId", "createdAt" DESC);
CREATE INDEX "Pixel_status_nextAttemptAt_idx" ON "Pixel"("status", "nextAttemptAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
