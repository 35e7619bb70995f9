-- Searched sweeps: trials handed out one at a time under the sweep's row lock, and early-stopping
-- decisions made once per (trial, rung). Additive: cartesian sweeps keep working unchanged.

-- AlterEnum
ALTER TYPE "ExperimentStatus" ADD VALUE 'stopped';

-- AlterTable
ALTER TABLE "Sweep" ADD COLUMN "search" JSONB,
ADD COLUMN "trialsCreated" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "cancelledAt" TIMESTAMP(3),
ADD COLUMN "finishedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Experiment" ADD COLUMN "trialId" TEXT,
ADD COLUMN "stopReason" JSONB;

-- CreateTable
CREATE TABLE "SweepTrial" (
    "id" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "params" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SweepTrial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RungDecision" (
    "trialId" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "rung" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "cutoff" DOUBLE PRECISION,
    "compared" INTEGER NOT NULL,
    "decision" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RungDecision_pkey" PRIMARY KEY ("trialId","rung")
);

-- CreateIndex
CREATE UNIQUE INDEX "SweepTrial_sweepId_index_key" ON "SweepTrial"("sweepId", "index");

-- CreateIndex
CREATE INDEX "RungDecision_sweepId_rung_idx" ON "RungDecision"("sweepId", "rung");

-- CreateIndex
CREATE INDEX "Experiment_trialId_idx" ON "Experiment"("trialId");

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "SweepTrial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SweepTrial" ADD CONSTRAINT "SweepTrial_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RungDecision" ADD CONSTRAINT "RungDecision_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "SweepTrial"("id") ON DELETE CASCADE ON UPDATE CASCADE;
