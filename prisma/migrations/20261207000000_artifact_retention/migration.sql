-- Retention of run files (ARTIFACTS_RETENTION_DAYS): when they were removed, and an index for the
-- sweep that finds finished runs older than the retention period.
ALTER TABLE "Experiment" ADD COLUMN "artifactsPurgedAt" TIMESTAMP(3);
CREATE INDEX "Experiment_finishedAt_idx" ON "Experiment"("finishedAt");
