/*
 * Minimal typings for the mljs packages that ship none (ml-cart, ml-knn,
 * ml-logistic-regression) or whose shipped typings do not resolve as a module
 * (ml-random-forest). Only what src/ml uses is declared.
 */
declare module 'ml-cart' {
  import type { Matrix } from 'ml-matrix';
  type TreeOptions = { maxDepth?: number; minNumSamples?: number; gainThreshold?: number };
  type TreeNode = { classify(row: number[]): Matrix | number };
  export class DecisionTreeClassifier {
    constructor(options?: TreeOptions);
    root: TreeNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
    static load(model: unknown): DecisionTreeClassifier;
  }
  export class DecisionTreeRegression {
    constructor(options?: TreeOptions);
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
    static load(model: unknown): DecisionTreeRegression;
  }
}

declare module 'ml-random-forest' {
  import type { Matrix } from 'ml-matrix';
  type ForestOptions = { nEstimators?: number; maxFeatures?: number; seed?: number; treeOptions?: object; noOOB?: boolean; replacement?: boolean; useSampleBagging?: boolean };
  class Forest {
    constructor(options?: ForestOptions);
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    /** One column per estimator: each tree's prediction for each row. */
    predictionValues(x: number[][]): Matrix;
    toJSON(): unknown;
  }
  export class RandomForestClassifier extends Forest {
    static load(model: unknown): RandomForestClassifier;
  }
  export class RandomForestRegression extends Forest {
    static load(model: unknown): RandomForestRegression;
  }
}

declare module 'ml-knn' {
  export default class KNN {
    constructor(dataset: number[][], labels: number[], options?: { k?: number });
    predict(x: number[][]): number[];
    toJSON(): unknown;
    static load(model: unknown): KNN;
  }
}

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    numberClasses: number;
    classifiers: { testScores(x: Matrix): number[] }[];
    train(x: Matrix, y: Matrix): void;
    predict(x: Matrix): number[];
    toJSON(): unknown;
    static load(model: unknown): LogisticRegression;
  }
}
