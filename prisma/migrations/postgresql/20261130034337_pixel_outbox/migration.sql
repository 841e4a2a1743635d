-- AlterTable
ALTER TABLE "Pixel" ADD COLUMN     "callerNumber" TEXT NOT NULL,
ALTER COLUMN "request" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "Pixel_webhookId_callerNumber_createdAt_idx" ON "Pixel"("webhookId", "callerNumber", "createdAt");
