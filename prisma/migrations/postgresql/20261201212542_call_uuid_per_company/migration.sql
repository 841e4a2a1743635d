-- DropIndex
DROP INDEX "Call_uuid_key";

-- CreateIndex
CREATE UNIQUE INDEX "Call_companyId_uuid_key" ON "Call"("companyId", "uuid");
