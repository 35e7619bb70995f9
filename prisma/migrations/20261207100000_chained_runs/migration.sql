-- Chained runs: a run may start from the model another run left (weights {experiment, epoch}).
-- Additive: existing rows are plain runs (both columns null). ON DELETE SET NULL: deleting a parent
-- row keeps its children and their metrics; parentEpoch stays, so a child still says it was chained.

-- AlterTable
ALTER TABLE "Experiment" ADD COLUMN "parentExperimentId" TEXT,
ADD COLUMN "parentEpoch" TEXT;

-- CreateIndex
CREATE INDEX "Experiment_parentExperimentId_idx" ON "Experiment"("parentExperimentId");

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_parentExperimentId_fkey" FOREIGN KEY ("parentExperimentId") REFERENCES "Experiment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
