package org.influence4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.influence4j.api.data.Batch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SparkData}: Datasets of rows (Parquet written by Spark, in-memory DataFrames) as batches. */
class SparkDataTest {

    private static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestData.localSession("influence4j-spark-data");
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void floatFeaturesAndIntLabelsFromParquetInIdOrder() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("x", DataTypes.createArrayType(DataTypes.FloatType)).add("y", DataTypes.IntegerType);
        List<Row> rows = List.of(
                RowFactory.create(2, new Float[] {5f, 6f}, 1),
                RowFactory.create(0, new Float[] {1f, 2f}, 0),
                RowFactory.create(3, new Float[] {7f, 8.5f}, 2),
                RowFactory.create(1, new Float[] {3f, 4f}, 1));
        String dir = tmp.resolve("data.parquet").toString();
        spark.createDataFrame(rows, schema).repartition(2).write().parquet(dir);

        Batch b = SparkData.collect(spark.read().parquet(dir).orderBy("id"), "x", "y");
        assertEquals(4, b.size());
        assertEquals(2, b.numFeatures());
        assertEquals(1, b.labelWidth());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 7, 8.5}, b.x());
        assertArrayEquals(new double[] {0, 1, 1, 2}, b.y());
    }

    @Test
    void arrayLabelsGiveOneTargetPerElement() {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("label", DataTypes.createArrayType(DataTypes.LongType));
        Dataset<Row> ds = spark.createDataFrame(List.of(
                RowFactory.create(new Double[] {1.0}, new Long[] {1L, 2L, 3L}),
                RowFactory.create(new Double[] {2.0}, new Long[] {4L, 5L, 6L})), schema).coalesce(1);
        Batch b = SparkData.collect(ds, "features", "label");
        assertEquals(3, b.labelWidth());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, b.y());
        assertArrayEquals(new double[] {1, 2}, b.x());
    }

    @Test
    void badColumnsAndValuesAreNamedInOneLine() {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("label", DataTypes.DoubleType).add("name", DataTypes.StringType);
        Dataset<Row> ok = spark.createDataFrame(List.of(RowFactory.create(new Double[] {1.0, 2.0}, 1.0, "a")), schema);

        assertMessage("featuresColumn: no column 'x'; the Dataset has [features, label, name]",
                () -> SparkData.collect(ok, "x", "label"));
        assertMessage("labelColumn: column 'name' has type string; it must be a number or an array of numbers",
                () -> SparkData.collect(ok, "features", "name"));
        assertMessage("featuresColumn: column 'label' has type double; it must be an array of numbers",
                () -> SparkData.collect(ok, "label", "label"));
        assertMessage("rows: the Dataset has no rows; a batch needs at least one sample",
                () -> SparkData.collect(ok.limit(0), "features", "label"));
        assertMessage("rows: must not be null; read them with spark.read().parquet(path)",
                () -> SparkData.collect(null, "features", "label"));

        Dataset<Row> ragged = spark.createDataFrame(List.of(RowFactory.create(new Double[] {1.0, 2.0}, 1.0, "a"),
                RowFactory.create(new Double[] {3.0}, 0.0, "b")), schema).coalesce(1);
        assertMessage("featuresColumn: row 1 of 'features' has 1 values but row 0 has 2; every row needs the same length",
                () -> SparkData.collect(ragged, "features", "label"));
        Dataset<Row> nullLabel = spark.createDataFrame(List.of(RowFactory.create(new Double[] {1.0}, null, "a")),
                schema);
        assertMessage("labelColumn: row 0 of 'label' is null", () -> SparkData.collect(nullLabel, "features", "label"));
        Dataset<Row> nullValue = spark.createDataFrame(List.of(RowFactory.create(new Double[] {1.0, null}, 1.0, "a")),
                schema);
        assertMessage("featuresColumn: row 0 of 'features' holds a null at position 1",
                () -> SparkData.collect(nullValue, "features", "label"));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(expected, e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }
}
