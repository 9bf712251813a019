package org.influence4j.spark;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.influence4j.api.data.Batch;

/**
 * Training or test data from a Spark {@link Dataset} of rows — e.g. Parquet files read with
 * {@code spark.read().parquet(path)} — as a {@link Batch} on the driver.
 *
 * <p><b>Columns.</b> The features column is an array of numbers of the same length in every row
 * ({@code array<double>}, {@code array<float>}, {@code array<int>}, ...; an ML {@code vector} must be
 * turned into an array first with {@code org.apache.spark.ml.functions.vector_to_array}). The label
 * column is a number (class index, binary label, one regression target) or an array of numbers of
 * the same length in every row (several regression targets). Values are read as float64; no value
 * may be null.
 *
 * <p><b>Order.</b> Sample {@code i} of the batch — column {@code i} of an influence matrix — is the
 * {@code i}-th row that the Dataset collects. Spark keeps the order of the rows of one file, but not
 * the order of several files; sort the Dataset ({@code rows.orderBy("id")}) when the rows carry their
 * own index.
 *
 * <p><b>Size.</b> The rows are collected on the driver (the influence computation broadcasts the
 * training data to every executor anyway): the data must fit in the driver's memory.
 */
public final class SparkData {

    private SparkData() {
    }

    /**
     * Collects {@code rows} into a batch.
     *
     * @param rows           the data, e.g. {@code spark.read().parquet(path)}
     * @param featuresColumn the name of the column of feature arrays
     * @param labelColumn    the name of the column of labels (a number or an array of numbers per row)
     * @return the rows as one batch, in the order the Dataset collects them
     * @throws IllegalArgumentException naming the argument: a missing column (listing the columns), a
     *     column of another type, an empty Dataset, a null value, or rows whose arrays differ in length
     */
    public static Batch collect(Dataset<Row> rows, String featuresColumn, String labelColumn) {
        if (rows == null) {
            throw new IllegalArgumentException("rows: must not be null; read them with spark.read().parquet(path)");
        }
        DataType featuresType = columnType(rows, featuresColumn, "featuresColumn");
        DataType labelType = columnType(rows, labelColumn, "labelColumn");
        if (!isNumericArray(featuresType)) {
            throw new IllegalArgumentException("featuresColumn: column '" + featuresColumn + "' has type "
                    + featuresType.simpleString() + "; it must be an array of numbers"
                    + (featuresType.typeName().equals("vector")
                            ? " (convert an ML vector with org.apache.spark.ml.functions.vector_to_array)" : ""));
        }
        boolean labelArray = isNumericArray(labelType);
        if (!labelArray && !(labelType instanceof NumericType)) {
            throw new IllegalArgumentException("labelColumn: column '" + labelColumn + "' has type "
                    + labelType.simpleString() + "; it must be a number or an array of numbers");
        }
        DataType doubles = DataTypes.createArrayType(DataTypes.DoubleType);
        Column label = functions.col(labelColumn).cast(labelArray ? doubles : DataTypes.DoubleType);
        List<Row> collected = rows.select(functions.col(featuresColumn).cast(doubles), label).collectAsList();
        if (collected.isEmpty()) {
            throw new IllegalArgumentException("rows: the Dataset has no rows; a batch needs at least one sample");
        }
        int n = collected.size();
        int numFeatures = -1;
        int labelWidth = labelArray ? -1 : 1;
        double[] x = null;
        double[] y = null;
        for (int i = 0; i < n; i++) {
            Row row = collected.get(i);
            if (row.isNullAt(0)) {
                throw new IllegalArgumentException("featuresColumn: row " + i + " of '" + featuresColumn + "' is null");
            }
            List<Double> features = row.getList(0);
            if (numFeatures < 0) {
                numFeatures = features.size();
                if (numFeatures == 0) {
                    throw new IllegalArgumentException("featuresColumn: row 0 of '" + featuresColumn
                            + "' is an empty array; every row needs at least one feature");
                }
                x = new double[Math.multiplyExact(n, numFeatures)];
            }
            copy(features, x, i, numFeatures, featuresColumn, "featuresColumn");
            if (row.isNullAt(1)) {
                throw new IllegalArgumentException("labelColumn: row " + i + " of '" + labelColumn + "' is null");
            }
            if (labelArray) {
                List<Double> labels = row.getList(1);
                if (labelWidth < 0) {
                    labelWidth = labels.size();
                    if (labelWidth == 0) {
                        throw new IllegalArgumentException("labelColumn: row 0 of '" + labelColumn
                                + "' is an empty array; every row needs at least one label");
                    }
                    y = new double[Math.multiplyExact(n, labelWidth)];
                }
                copy(labels, y, i, labelWidth, labelColumn, "labelColumn");
            } else {
                if (y == null) {
                    y = new double[n];
                }
                y[i] = row.getDouble(1);
            }
        }
        return new Batch(x, numFeatures, y, labelWidth);
    }

    private static void copy(List<Double> values, double[] target, int row, int width, String column,
            String argument) {
        if (values.size() != width) {
            throw new IllegalArgumentException(argument + ": row " + row + " of '" + column + "' has "
                    + values.size() + " values but row 0 has " + width + "; every row needs the same length");
        }
        int k = 0;
        for (Double v : values) {
            if (v == null) {
                throw new IllegalArgumentException(argument + ": row " + row + " of '" + column + "' holds a null"
                        + " at position " + k);
            }
            target[row * width + k++] = v;
        }
    }

    private static DataType columnType(Dataset<Row> rows, String column, String argument) {
        if (column == null || column.isBlank()) {
            throw new IllegalArgumentException(argument + ": must name a column of " + Arrays.toString(rows.columns()));
        }
        for (StructField f : rows.schema().fields()) {
            if (f.name().equals(column)) {
                return f.dataType();
            }
        }
        throw new IllegalArgumentException(argument + ": no column '" + column + "'; the Dataset has "
                + Arrays.toString(rows.columns()));
    }

    private static boolean isNumericArray(DataType type) {
        return type instanceof ArrayType a && a.elementType() instanceof NumericType;
    }
}
