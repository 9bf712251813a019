/**
 * Checks of attribution quality against reality on the user's own model and data: predicted
 * versus actual change of the test loss under leave-one-out ({@link org.influence4j.calculators.validation.LeaveOneOut},
 * {@link org.influence4j.calculators.validation.AttributionQuality}) and leave-group-out
 * ({@link org.influence4j.calculators.validation.LeaveGroupOut}) retraining, and the linear
 * datamodeling score ({@link org.influence4j.calculators.validation.LinearDatamodelingScore}),
 * with retraining by the project's trainers ({@link org.influence4j.calculators.validation.Retrainers}).
 */
package org.influence4j.calculators.validation;
