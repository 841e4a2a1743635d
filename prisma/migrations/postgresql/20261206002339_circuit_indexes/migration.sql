-- CreateIndex
CREATE INDEX "Pixel_pending_webhookId_nextAttemptAt_idx" ON "Pixel"("webhookId", "nextAttemptAt", "createdAt") WHERE ("status" = 'PENDING');

-- CreateIndex
CREATE INDEX "Webhook_circuitState_circuitProbeAt_idx" ON "Webhook"("circuitState", "circuitProbeAt");
