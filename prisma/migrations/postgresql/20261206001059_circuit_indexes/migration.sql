-- CreateIndex
CREATE INDEX "Pixel_webhookId_status_nextAttemptAt_idx" ON "Pixel"("webhookId", "status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Webhook_circuitState_circuitProbeAt_idx" ON "Webhook"("circuitState", "circuitProbeAt");
