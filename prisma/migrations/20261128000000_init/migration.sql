-- CreateEnum
CREATE TYPE "ExperimentStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "base" JSONB NOT NULL,
    "grid" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Experiment" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "sweepId" TEXT,
    "gridValues" JSONB,
    "dataset" TEXT NOT NULL,
    "weights" TEXT,
    "strategy" TEXT NOT NULL,
    "lr" DOUBLE PRECISION NOT NULL,
    "lrFactor" DOUBLE PRECISION NOT NULL,
    "momentum" DOUBLE PRECISION NOT NULL,
    "weightDecay" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "epochs" INTEGER NOT NULL,
    "batchSize" INTEGER NOT NULL,
    "imageSize" INTEGER NOT NULL,
    "seed" INTEGER NOT NULL,
    "stepSize" INTEGER NOT NULL,
    "gamma" DOUBLE PRECISION NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "status" "ExperimentStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "workerId" TEXT,
    "backend" TEXT,
    "backendInfo" TEXT,
    "error" TEXT,
    "epochsDone" INTEGER NOT NULL DEFAULT 0,
    "bestValAcc" DOUBLE PRECISION,
    "bestEpoch" INTEGER,
    "finalValAcc" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EpochMetric" (
    "id" TEXT NOT NULL,
    "experimentId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "trainLoss" DOUBLE PRECISION NOT NULL,
    "trainAcc" DOUBLE PRECISION NOT NULL,
    "valLoss" DOUBLE PRECISION NOT NULL,
    "valAcc" DOUBLE PRECISION NOT NULL,
    "lrs" DOUBLE PRECISION[],
    "seconds" DOUBLE PRECISION NOT NULL,
    "imagesPerSec" DOUBLE PRECISION NOT NULL,
    "trainableParams" INTEGER NOT NULL,
    "backboneDrift" DOUBLE PRECISION NOT NULL,
    "bnStatsDrift" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EpochMetric_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "gpu" INTEGER,
    "backend" TEXT NOT NULL,
    "backendInfo" TEXT,
    "currentExperimentId" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Sweep_createdAt_idx" ON "Sweep"("createdAt");

-- CreateIndex
CREATE INDEX "Experiment_sweepId_createdAt_idx" ON "Experiment"("sweepId", "createdAt");

-- CreateIndex
CREATE INDEX "Experiment_status_createdAt_idx" ON "Experiment"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Experiment_strategy_createdAt_idx" ON "Experiment"("strategy", "createdAt");

-- CreateIndex
CREATE INDEX "Experiment_dataset_createdAt_idx" ON "Experiment"("dataset", "createdAt");

-- CreateIndex
CREATE INDEX "Experiment_createdAt_id_idx" ON "Experiment"("createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "EpochMetric_experimentId_epoch_key" ON "EpochMetric"("experimentId", "epoch");

-- CreateIndex
CREATE INDEX "Worker_lastSeenAt_idx" ON "Worker"("lastSeenAt");

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EpochMetric" ADD CONSTRAINT "EpochMetric_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
