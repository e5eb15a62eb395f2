-- phase 1: before the load
CREATE SCHEMA IF NOT EXISTS "s";
CREATE TABLE "s"."tttttttttttttttttttttttttttttttttttttttttttttttttttttt_acc5bb1d" (
  "a_really_long_column_name_that_goes_on_and_on_past_the_a2cbd9bf" integer,
  "a_really_long_column_name_that_goes_on_and_on_past_the_4aacbd90" integer,
  "order" integer,
  "order_2" integer
);
-- phase 2: after the load
ALTER TABLE "s"."tttttttttttttttttttttttttttttttttttttttttttttttttttttt_acc5bb1d" ADD CONSTRAINT "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_5bcfbfd0" PRIMARY KEY ("a_really_long_column_name_that_goes_on_and_on_past_the_a2cbd9bf");
