-- Learning curves on the Experiment row. Comparing a 1000-run sweep needs every run's per-epoch
-- val acc and train loss; read from EpochMetric that is one heap page per epoch row (a run's epochs
-- are written minutes apart, interleaved with other runs' epochs), 25k page visits for 25 epochs x
-- 1000 runs. Here they are a projection of the run's EpochMetric rows, in epoch order, that the
-- comparison reads with the run itself.
--
-- The columns are kept in sync by the statement triggers below, in the same transaction as every
-- write to EpochMetric (the worker's per-epoch upsert, bulk inserts, updates, cascade deletes), so
-- they can never describe other epochs than the stored ones. The application never writes them.

-- AlterTable
ALTER TABLE "Experiment" ADD COLUMN "curveEpochs" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
ADD COLUMN "curveValAcc" DOUBLE PRECISION[] DEFAULT ARRAY[]::DOUBLE PRECISION[],
ADD COLUMN "curveTrainLoss" DOUBLE PRECISION[] DEFAULT ARRAY[]::DOUBLE PRECISION[],
ADD COLUMN "epochSecondsSum" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- Recomputes the curve columns of the given experiments from their stored epochs.
CREATE FUNCTION "experiment_refresh_curves"(ids TEXT[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- Lock first, read after: under READ COMMITTED the UPDATE below takes its snapshot once these
  -- row locks are held, so of two transactions storing epochs of the same run the second sees the
  -- first's committed epoch (a subquery evaluated before waiting for the lock would miss it).
  -- NO KEY UPDATE, like any UPDATE of these columns: it does not conflict with the KEY SHARE lock
  -- that the foreign key check of a concurrent EpochMetric insert holds, so no deadlock.
  PERFORM 1 FROM "Experiment" WHERE "id" = ANY (ids) ORDER BY "id" FOR NO KEY UPDATE;
  UPDATE "Experiment" e
  SET ("curveEpochs", "curveValAcc", "curveTrainLoss", "epochSecondsSum") = (
    SELECT coalesce(array_agg(m."epoch" ORDER BY m."epoch"), ARRAY[]::INTEGER[]),
           coalesce(array_agg(m."valAcc" ORDER BY m."epoch"), ARRAY[]::DOUBLE PRECISION[]),
           coalesce(array_agg(m."trainLoss" ORDER BY m."epoch"), ARRAY[]::DOUBLE PRECISION[]),
           coalesce(sum(m."seconds"), 0)
    FROM "EpochMetric" m
    WHERE m."experimentId" = e."id")
  WHERE e."id" = ANY (ids);
END
$$;

-- One function for the three triggers: transition tables cannot be declared for a trigger with
-- more than one event. Statement level, so a bulk insert refreshes each run once.
CREATE FUNCTION "epoch_metric_refresh_curves"() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM "experiment_refresh_curves"(ARRAY(SELECT DISTINCT "experimentId" FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM "experiment_refresh_curves"(ARRAY(SELECT "experimentId" FROM new_rows UNION SELECT "experimentId" FROM old_rows));
  ELSE
    PERFORM "experiment_refresh_curves"(ARRAY(SELECT DISTINCT "experimentId" FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "EpochMetric_curves_insert" AFTER INSERT ON "EpochMetric"
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION "epoch_metric_refresh_curves"();

CREATE TRIGGER "EpochMetric_curves_update" AFTER UPDATE ON "EpochMetric"
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION "epoch_metric_refresh_curves"();

CREATE TRIGGER "EpochMetric_curves_delete" AFTER DELETE ON "EpochMetric"
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION "epoch_metric_refresh_curves"();

-- Backfill the runs stored before this migration.
SELECT "experiment_refresh_curves"(ARRAY(SELECT DISTINCT "experimentId" FROM "EpochMetric"));
