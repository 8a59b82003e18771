/**
 * Run parameters, by profile, with environment overrides (papermill-style).
 *
 * `FER_PROFILE=smoke|lite|paper` picks a column of PARAMETERS (`lite` is the
 * default); `FER_<NAME>` overrides one parameter, e.g. `FER_EPOCHS=3` or
 * `FER_IMAGE_SIZE=48`. An unknown `FER_*` variable or a value of the wrong
 * type is an error naming it, so a typo never runs silently with defaults.
 * @see notebooks/00-environment.ipynb
 */

export const PROFILES = ['smoke', 'lite', 'paper'] as const;
export type Profile = (typeof PROFILES)[number];

type Value = number | string | boolean;
interface Parameter<T extends Value> {
  doc: string;
  values: Record<Profile, T>;
  /** allowed values, for strings */
  oneOf?: readonly T[];
}

const param = <T extends Value>(doc: string, smoke: T, lite: T, paper: T, oneOf?: readonly T[]): Parameter<T> =>
  ({ doc, values: { smoke, lite, paper }, oneOf });

/** Every parameter a notebook or the runner reads. Add new ones here, documented. */
export const PARAMETERS = {
  seed: param('random seed for data generation, weight initialisation and batching', 1, 1, 1),
  calibrationSeed: param('seed of the SynFER calibration runs (notebook 01): other faces, folds and weights than `seed`, the one every paper notebook reports on', 7, 7, 7),
  dataset: param('dataset the paper notebooks train on (synfer is the embedded synthetic set)', 'synfer', 'synfer', 'ckplus',
    ['synfer', 'ckplus', 'oulu', 'mmi', 'rafdb', 'sfew', 'fer2013', 'multipie', 'csv']),
  dataRoot: param('folder of a real dataset in its published layout (paper profile)', '', '', ''),
  subjects: param('synthetic subjects generated', 12, 60, 60),
  imageSize: param('side of the square face images fed to the network, in pixels', 32, 32, 224),
  folds: param('subject-independent cross-validation folds', 2, 5, 10),
  backbone: param('feature extractor', 'lite-cnn', 'lite-cnn', 'resnet18', ['lite-cnn', 'resnet18']),
  batchSize: param('training batch size', 16, 32, 128),
  epochs: param('training epochs per fold (papers differ; paper notebooks may scale this)', 1, 12, 150),
  learningRate: param('base learning rate', 1e-3, 1e-3, 1e-3),
  force: param('recompute results even when an identical run is stored', false, false, false),
  study: param('also train the runs that do not fit in npm start (sweeps, extra ablations, second seeds, the controlled benchmark: `npm run study`); without it a notebook shows those runs when they are stored and names that command', false, false, true),
  workers: param('folds trained at once, each in a worker thread with a single-threaded wasm backend (0: one per core on wasm, at most 4; 1: one fold at a time in the notebook\'s own process). The numbers do not depend on it', 0, 0, 0),
  benchSteps: param('timed training steps in the environment check (notebook 00)', 3, 10, 20),
  backboneWidth: param('base filter count of the lite backbones (lite-cnn: width x [1,2,4,8]); ResNet-18 ignores it', 8, 8, 64),
  pretrainedWeights: param('TF.js model.json of pretrained backbone weights (e.g. converted torchvision ResNet-18); empty: train from scratch', '', '', ''),
  optimizer: param('optimiser of the plain training step (papers may choose their own)', 'adam', 'adam', 'adam', ['adam', 'sgd', 'momentum']),
  lrSchedule: param('learning-rate schedule: constant, or multiplied by lrGamma after each epoch in lrMilestones', 'constant', 'milestones', 'constant', ['constant', 'milestones']),
  lrMilestones: param('comma-separated epochs after which the learning rate is multiplied by lrGamma', '', '9', ''),
  lrGamma: param('learning-rate factor at each milestone', 0.1, 0.1, 0.1),
  weightDecay: param('coupled L2 weight decay (PyTorch weight_decay)', 0, 0, 0),
  splRho: param('self-paced learning: comma-separated share of each class selected per pace, ending with 1 (our schedule: SPNDL Sec. 4.4 lost the pace-1 share in the text; Sec. 3.3 grows the share of every class in proportion)', '0.5,0.6,0.7,0.8,0.9,1', '0.5,0.6,0.7,0.8,0.9,1', '0.5,0.6,0.7,0.8,0.9,1'),
  splPaceEpochs: param('self-paced learning: comma-separated epochs per pace; empty: epochs split 30:30:30:30:30:100 as in the paper', '', '', ''),
  channels: param('image channels fed to the network: 1 grey, 3 colour (grey images are repeated; synfer renders in colour)', 1, 1, 3, [1, 3]),
  manifest: param('manifest CSV of a real dataset (npm run data -- manifest ...); empty: <dataRoot>/manifest.csv', '', '', ''),
  synferExpressions: param('SynFER classes, comma-separated; empty: the 7 CK+ classes', '', '', ''),
  synferFrames: param('SynFER frames per sequence: the first is neutral, the last 3 are peaks', 4, 6, 6),
  synferConfound: param('SynFER spread of resting faces that mimic expression cues (0 none, 1 like weak expressions)', 1, 1, 1),
  synferSubtle: param('SynFER share of sequences with a subtle peak (intensity 0.3-0.5)', 0.2, 0.2, 0.2),
  synferLabelNoise: param('SynFER share of rows whose label is flipped to a look-alike class (truth in true_label)', 0, 0, 0),
  synferCorrupt: param('SynFER share of rows corrupted by an occluding patch, heavy blur or heavy noise', 0, 0, 0),
  synferPose: param('SynFER largest |yaw| in degrees (pitch and roll up to a third of it)', 0, 0, 0),
  synferLight: param('SynFER strongest side illumination, 0..1 (one light per sequence)', 0.3, 0.3, 0.3),
  synferOcclusion: param('SynFER chance scale of glasses, bangs and beards', 0.3, 0.3, 0.3),
  spndlImageSize: param('notebook 02 (SPNDL): image side for its runs (replaces imageSize there; the paper: 224)', 16, 32, 224),
  spndlSubjects: param('notebook 02 (SPNDL): SynFER subjects for its runs (replaces subjects there; real datasets ignore it)', 8, 60, 60),
  spndlFolds: param('notebook 02 (SPNDL): subject-independent folds (the paper: 10 on CK+ and Oulu-CASIA)', 2, 5, 10),
  spndlPaceEpochs: param('notebook 02 (SPNDL): epochs per SPL pace, 6 paces (SPNDL Sec. 4.2: 250 epochs; read as 30,30,30,30,30,100 because all samples are in from epoch 150 in Fig. 6, Sec. 4.4); runs without SPL train as many epochs', '1,1,1,1,1,1', '1,1,1,1,1,7', '30,30,30,30,30,100'),
  spndlBackboneWidth: param('notebook 02 (SPNDL): base filter count of the lite backbone (ResNet-18 ignores it)', 4, 8, 64),
  spndlNoise: param('notebook 02 (SPNDL): SynFER share of rows with a flipped label, and the same share corrupted (real datasets ignore it). Lite: 0, the default set every notebook shares; SPL then ranks its naturally hard samples (subtle peaks, confounded faces)', 0.05, 0, 0),
  ddlImageSize: param('notebook 05 (DDL): image side before the random crop (replaces imageSize there; the paper resizes to 100)', 24, 32, 100),
  ddlCrop: param('notebook 05 (DDL): side of the random (training) / centre (test) crop fed to the networks (the paper: 90). Lite: the whole 32-px face (no shift): the strided trunk did not fit its training set under 28-px random crops; with the max-pooled trunk (ddlDownsample) crops of 28 gained 0.2-2.3 points over 3 folds, within the fold spread', 20, 32, 90),
  ddlWidth: param('notebook 05 (DDL): base filter count of the PreAct trunk, channels [w,w,2w,4w,8w] (the paper: 64)', 4, 4, 64),
  ddlBlocks: param('notebook 05 (DDL): PreAct blocks per trunk stage (the paper: 2)', 1, 1, 2),
  ddlDownsample: param('notebook 05 (DDL): how each trunk stage halves the resolution: stride (the paper\'s code: stride-2 first conv and 1x1 shortcut) or maxpool (2x2 max-pool, then stride-1 blocks). Lite: maxpool, since on 32-px faces the strided trunk reached 35-47 % training but 16 % held-out accuracy (chance 14 %) and the pooled one 22-24 % held-out, like the lite CNN of the other notebooks', 'maxpool', 'maxpool', 'stride', ['stride', 'maxpool']),
  ddlDropout: param('notebook 05 (DDL): dropout before each FC of the heads (the code: 0.5, its comment: 0.8 for SFEW). Lite: 0, since with 32-d features and about 100 steps per fold dropout 0.5 keeps the network from fitting its training set', 0.5, 0, 0.5),
  ddlFeatureDim: param('notebook 05 (DDL): size of f^e, f^d and f^p (the paper: 128)', 16, 32, 128),
  ddlEpochs: param('notebook 05 (DDL): stage-2 epochs per fold (the paper: 40)', 1, 12, 40),
  ddlBatchSize: param('notebook 05 (DDL): stage-2 batch size (the paper: 16 on RAF-DB, 8 on the others; paper profile picks by dataset)', 16, 32, 8),
  ddlLearningRate: param('notebook 05 (DDL): Adam learning rate, beta1 0.5 (DDL Sec. 4.2: 1e-4 with AffectNet pretraining; 1e-3 from scratch in the lite profile, our choice)', 1e-3, 1e-3, 1e-4),
  ddlFolds: param('notebook 05 (DDL): subject-independent folds on lab data (the paper: 10; sets with a split column use it instead)', 2, 5, 10),
  ddlSeeds: param('notebook 05 (DDL): comma-separated seeds of the runs (spread over seeds on split datasets)', '1', '1', '1'),
  ddlVariants: param('notebook 05 (DDL): comma-separated variants the notebook runs (the smallest matrix testing the must-hold claims in lite; all nine in the paper profile)',
    'baseline-mat,ddl-gar-id-il-p', 'baseline,baseline-mat,ddl-gar-id-il-p',
    'baseline,baseline-at,baseline-mat,ddl-g,ddl-ga,ddl-gar,ddl-gar-id,ddl-gar-id-il,ddl-gar-id-il-p'),
  ddlSynferMode: param('notebook 05 (DDL): SynFER layout of the FER data: wild (RAF-DB/SFEW-like, split by subject) or lab (CK+-like sequences, folds)', 'lab', 'lab', 'lab', ['wild', 'lab']),
  ddlSubjects: param('notebook 05 (DDL): SynFER subjects of the FER data (real datasets ignore it)', 8, 60, 60),
  ddlPose: param('notebook 05 (DDL): SynFER largest |yaw| in degrees of the disturbance database, the stage-0 set and the wild layout (the lab layout is the default set, frontal like CK+)', 30, 30, 30),
  ddlLight: param('notebook 05 (DDL): SynFER strongest side illumination of the disturbance database, the stage-0 set and the wild layout', 0.8, 0.8, 0.8),
  ddlDfemSubjects: param('notebook 05 (DDL): SynFER identities of the synthetic disturbance database (stands for Multi-PIE + RAF-DB attributes; drawn with ddlDfemSeed, so other faces than the FER data)', 8, 40, 150),
  ddlDfemSeed: param('notebook 05 (DDL): seed of the disturbance database and DFEM runs (one DFEM per factor set, shared by every seed and fold)', 101, 101, 101),
  ddlDfemEpochs: param('notebook 05 (DDL): DFEM pretraining epochs (the code\'s checkpoints: 20; lite: 3 epochs left its identity head at 27 % and pose at 32 % on held-out faces, 8 reach 62 % and 57 %)', 1, 8, 20),
  ddlDfemManifest: param('notebook 05 (DDL): manifest of the real disturbance database (Multi-PIE rows with pose/illumination, RAF-DB train rows with gender/race/age; missing labels left empty); empty: synthetic', '', '', ''),
  ddlPretrain: param('notebook 05 (DDL): how S_g of every compared network (Baseline, Baseline_mat, DDL) and the DFEM trunk start: stage0 (DDL Sec. 4.2 starts from AffectNet pretraining; here an expression network pretrained on a separate set, lib/experiments/ddl-pretrain.ts; the \'pre\' rate ddlPreLearningRate and milestones apply) or scratch (seeded random weights). A set pretrainedWeights replaces stage 0', 'stage0', 'stage0', 'stage0', ['stage0', 'scratch']),
  ddlPretrainManifest: param('notebook 05 (DDL): manifest of the stage-0 expression set (the paper: AffectNet); empty: synthetic (SynFER wild layout drawn with ddlPretrainSeed: other faces than the FER data)', '', '', ''),
  ddlPretrainSubjects: param('notebook 05 (DDL): SynFER subjects of the synthetic stage-0 set (a quarter held out as its test split)', 8, 80, 150),
  ddlPretrainImages: param('notebook 05 (DDL): SynFER images per subject of the synthetic stage-0 set (random expression, pose and light each)', 8, 20, 40),
  ddlPretrainSeed: param('notebook 05 (DDL): seed of the stage-0 set and run (must differ from seed: other faces than the FER data)', 202, 202, 202),
  ddlPretrainEpochs: param('notebook 05 (DDL): stage-0 epochs (the authors\' checkpoint name: epoch 30). Lite: 8; on 100 synthetic subjects its held-out-subject accuracy rose from 20 % (epoch 1) to 29 % (epoch 8-10; chance 14 %), 4 epochs on 60 stayed at 17 %', 1, 8, 30),
  ddlPretrainLearningRate: param('notebook 05 (DDL): stage-0 Adam learning rate (beta1 0.5; the checkpoint name says lr 0.01 for an unknown optimiser)', 1e-3, 1e-3, 1e-3),
  ddlPreLearningRate: param('notebook 05 (DDL): stage-2 and DFEM Adam learning rate when the trunk starts from stage 0 or pretrainedWeights (the paper: 1e-4 over 40 epochs; ddlLearningRate applies from scratch). Lite keeps 1e-3: its heads, S_e and S_d start random and train 8 epochs', 1e-3, 1e-3, 1e-4),
  idfermImageSize: param('notebook 04 (IDFERM): face side for the HNG and RML runs, a multiple of 16 (the paper: 64, crops of 60)', 32, 32, 64),
  idfermSubjects: param('notebook 04 (IDFERM): SynFER subjects of the FER data (real datasets ignore it)', 8, 60, 60),
  idfermFolds: param('notebook 04 (IDFERM): subject-independent folds (the paper: 10)', 2, 5, 10),
  idfermEpochs: param('notebook 04 (IDFERM): RML fine-tuning epochs per fold (the paper: up to 100, under the halve-and-reload rule idfermLrPlateau)', 1, 12, 100),
  idfermLearningRate: param('notebook 04 (IDFERM): SGD (momentum 0.9, weight decay 1e-4) learning rate of the RML network (0.01: our choice; IDFERM Sec. 5.3 gives only the pretraining rate, 0.1)', 0.01, 0.01, 0.01),
  idfermDropout: param('notebook 04 (IDFERM): dropout rate on FC1_EC of the RML network (0.5: our choice, the paper gives none; lite: 0, which learns faster on the 64-unit layer)', 0, 0, 0.5),
  idfermRmlWidth: param('notebook 04 (IDFERM): base width w of the RML conv groups (channels 2w, 4w, 8w; D_in 8w, D_out 4w, d 2w)', 4, 8, 64),
  idfermVariants: param('notebook 04 (IDFERM): comma-separated variants the notebook runs (lite: the must-hold comparisons; *-8class: the CK+ 8-class protocol of Table 4; *-pretrained: the "with pre-training" rows of Table 5; lite runs idferm-oracle too, to tell a poor generator from a metric loss that does not help)', 'softmax,idferm,idferm-8class', 'softmax,idferm,idferm-oracle,2bnm,idferm-8class,idferm-pretrained,2bnm-pretrained',
    'softmax,idferm,idferm-oracle,idferm-mined,idferm-other-identity,idferm-self-blur,triplet,2bnm,data-aug,idferm-fixed-threshold,idferm-no-connect,softmax-sparse,2bnm-sparse,idferm-sparse,idferm-8class,softmax-8class,idferm-pretrained,2bnm-pretrained'),
  idfermLambdas: param('notebook 04 (IDFERM): comma-separated λ values of the softmax/RML balance sweep (Fig. 11); λ = 1 is the idferm run itself', '0,1', '0,1,2', '0,0.25,0.5,0.75,0.9,0.95,1,1.1,1.25,1.5,2'),
  idfermSlopes: param('notebook 04 (IDFERM): comma-separated LReLU slopes of the RML-network sweep (Fig. 12); 0.1 is the idferm run itself', '0.1', '0.05,0.1,0.15', '0.05,0.075,0.1,0.125,0.15'),
  idfermHngVariants: param('notebook 04 (IDFERM): comma-separated HNG variants the notebook trains (full always; w1=<v> for the Table 1 sweep)', 'full', 'full,no-id',
    'full,no-id,ae-only,no-feat,no-sym,no-gan,w1=0.001,w1=0.005,w1=0.01,w1=0.015,w1=0.02,w1=0.025,w1=0.035,w1=0.04,w1=0.05'),
  idfermHngSubjects: param('notebook 04 (IDFERM): subjects of the synthetic face-db the HNG and identity nets train on (other faces than the FER data)', 6, 30, 200),
  idfermHngManifest: param('notebook 04 (IDFERM): manifest of real HNG pairs (e.g. Multi-PIE: neutral_path = frontal neutral target); empty: synthetic face-db', '', '', ''),
  idfermHngWidth: param('notebook 04 (IDFERM): base width of the HNG encoder/discriminator (channels w, 2w, 4w, 8w; 64 in our paper-profile layout, DCGAN-like, since IDFERM Sec. 5.3 defers the encoder to the authors\' earlier paper)', 4, 8, 64),
  idfermHngLatent: param('notebook 04 (IDFERM): HNG latent size (the paper: 256)', 32, 64, 256),
  idfermHngBatch: param('notebook 04 (IDFERM): HNG batch size (our choice: 64; the paper gives none)', 16, 32, 64),
  idfermHngLearningRate: param('notebook 04 (IDFERM): Adam learning rate (β1 0.5) of the HNG encoder, decoder and discriminator with the full objective (our choice: 2e-4, the paper gives no HNG optimiser; at 2e-3 the lite discriminator won and undid the warm-up\'s neutralisation)', 2e-4, 2e-4, 2e-4),
  idfermHngWarmupLearningRate: param('notebook 04 (IDFERM): Adam learning rate of the HNG warm-up (our choice: 2e-4 throughout; lite: 2e-3, since its few hundred warm-up steps barely move at 2e-4)', 2e-3, 2e-3, 2e-4),
  idfermHngWarmupEpochs: param('notebook 04 (IDFERM): HNG perceptual auto-encoder warm-up epochs (no discriminator, no identity loss; lite: 4, the held-out |x* − truth| stops falling there)', 1, 4, 3),
  idfermHngResidual: param('notebook 04 (IDFERM): the HNG draws x* = x + Dec(Enc(x)) (clipped) instead of Dec(Enc(x)) (the paper). Lite: true, since the small 64-d generator redrew unseen faces farther from their neutral face (0.096) than the input itself was (0.052)', true, true, false),
  idfermHngPixelWeight: param('notebook 04 (IDFERM): HNG pixel-loss weight w2 (η2 = 0.01 in the paper; lite: 1, with 0.01 the perceptual term on an identity network, blind to expression, hardly pulls towards the neutral face)', 1, 1, 0.01),
  idfermHngEpochs: param('notebook 04 (IDFERM): HNG epochs with the full objective after the warm-up', 1, 2, 22),
  idfermIdnetEpochs: param('notebook 04 (IDFERM): epochs of the synthetic identity networks (IdNet-A for the losses, IdNet-B the evaluator)', 1, 4, 10),
  idfermIdentityNet: param('notebook 04 (IDFERM): identity network of the HNG losses: synthetic (IdNet-A), face-api (its 128-d descriptor, slow on CPU) or file (idfermIdentityWeights)', 'synthetic', 'synthetic', 'face-api', ['synthetic', 'face-api', 'file']),
  idfermIdentityWeights: param('notebook 04 (IDFERM): TF.js model.json of identity taps [phi map, psi map, psi embedding] (converted VGG-Face / Light CNN) for idfermIdentityNet=file', '', '', ''),
  idfermPretrainEpochs: param('notebook 04 (IDFERM): epochs of the RML pretraining stage on the face database (Table 5 "with pre-training"; the paper: 300 on Multi-PIE)', 1, 3, 300),
  idfermPretrainLearningRate: param('notebook 04 (IDFERM): SGD (momentum 0.9, weight decay 1e-4) learning rate of the RML pretraining stage (the paper: 0.1)', 0.01, 0.01, 0.1),
  idfermPretrainBatch: param('notebook 04 (IDFERM): batch of the RML pretraining stage, drawn class-balanced over its 4 expressions (the paper: 128)', 16, 32, 128),
  idfermLrPlateau: param('notebook 04 (IDFERM): the paper\'s learning-rate rule for the RML fine-tuning and pretraining (IDFERM Sec. 5.3, stated for the pretraining; using it for fine-tuning and the validation split of subjects are our choice): 10 % of the training subjects validate; when the training loss rises by more than idfermLrRise or the validation accuracy has not improved for idfermLrPatience epochs, the rate halves and the best-validation weights are reloaded. Off: all training subjects train, the rate follows its schedule', false, false, true),
  idfermLrPatience: param('notebook 04 (IDFERM): epochs without a validation gain before the rule halves the rate (IDFERM Sec. 5.3: 10; with idfermLrPlateau)', 10, 10, 10),
  idfermLrRise: param('notebook 04 (IDFERM): relative epoch-over-epoch rise of the training loss that halves the rate (IDFERM Sec. 5.3: 25 %; with idfermLrPlateau)', 0.25, 0.25, 0.25),
  idfermValShare: param('notebook 04 (IDFERM): share of a fold\'s training subjects held out to validate for the rule (our choice: ~10 %, IDFERM Sec. 5.3 gives no size; at least 1 subject; with idfermLrPlateau)', 0.1, 0.1, 0.1),
  gndlImageSize: param('notebook 03 (GNDL): image side for its runs (replaces imageSize there; the paper: 224)', 16, 32, 224),
  gndlSubjects: param('notebook 03 (GNDL): SynFER subjects for its runs (replaces subjects there; real datasets ignore it)', 8, 60, 60),
  gndlFolds: param('notebook 03 (GNDL): subject-independent folds (the paper: 10)', 2, 5, 10),
  gndlEpochs: param('notebook 03 (GNDL): training epochs per fold (the paper: 150)', 1, 12, 150),
  gndlBatchSize: param('notebook 03 (GNDL): batch size in pairs (the baseline: images; the paper: 128)', 16, 32, 128),
  gndlBackboneWidth: param('notebook 03 (GNDL): base filter count of the lite backbone (ResNet-18 ignores it)', 4, 8, 64),
  gndlVariants: param('notebook 03 (GNDL): comma-separated variants the notebook runs (lite: our must-hold comparisons)', 'baseline,gndl', 'baseline,gndl,gndl-lambda0,no-neutral-in-batch,oracle-ndf',
    'baseline,gndl,gndl-lambda0,no-nfg,aux-no-subtract,no-pair-bn,no-neutral-in-batch,oracle-ndf'),
  gndlLambdas: param('notebook 03 (GNDL): comma-separated λ values of the sensitivity sweep (Fig. 7); each has a variant gndl-lambda<λ>', '', '0,1,5,20', '0.1,0.5,1,2,5,10,20,100'),
  backboneInit: param('how the backbones of the baseline, SPNDL and GNDL start: scratch (seeded random weights, or pretrainedWeights when set) or id-pre (the identity pretraining of lib/experiments/id-pretrain.ts, our lite stand-in for the face-recognition start of SPNDL Sec. 3.2; contradicts pretrainedWeights)',
    'scratch', 'scratch', 'scratch', ['scratch', 'id-pre']),
  idPreSubjects: param('identity pretraining: synthetic identities (drawn with idPreSeed, so other faces than the FER data; our choice: 100)', 6, 100, 100),
  idPreImages: param('identity pretraining: training images per identity, random expressions (1 in 10 more per identity are held out for its closed-set accuracy)', 4, 20, 20),
  idPreEpochs: param('identity pretraining: epochs (our choice: 5)', 1, 5, 5),
  idPreSeed: param('identity pretraining: seed of its identities and its run (one pretraining per backbone shape, shared by every seed and fold)', 211, 211, 211),
  comparisonMethods: param('notebook 06 (comparison): comma-separated methods trained on the same data, folds, image size, epochs and seed (baseline first: every paired test is against it)',
    'baseline,spndl,gndl,idferm,ddl', 'baseline,spndl,gndl,idferm,ddl', 'baseline,spndl,gndl,idferm,ddl'),
  comparisonSubjects: param('notebook 06 (comparison): SynFER subjects of the shared data (real datasets ignore it)', 8, 60, 60),
  comparisonImageSize: param('notebook 06 (comparison): image side every method gets, a multiple of 16 for IDFERM\'s generator (the papers: 224, 224, 64, 100)', 32, 32, 112),
  comparisonFolds: param('notebook 06 (comparison): subject-independent folds shared by every method (the pairs of the paired tests)', 2, 5, 10),
  comparisonEpochs: param('notebook 06 (comparison): training epochs per fold for every method (SPNDL\'s self-paced schedule is fitted into them)', 1, 12, 60),
  comparisonBackboneWidth: param('notebook 06 (comparison): base width of the backbone the baseline, SPNDL and GNDL share (ResNet-18 ignores it)', 4, 8, 64),
  comparisonRmlWidth: param('notebook 06 (comparison): base width of IDFERM\'s RML network, chosen for a parameter count near the shared backbone\'s', 4, 8, 64),
  comparisonDdlWidth: param('notebook 06 (comparison): base width of DDL\'s PreAct trunk, chosen for a parameter count near the shared backbone\'s', 2, 3, 64),
  comparisonBenchMethods: param('notebook 06 (comparison): methods of the controlled benchmark (IDFERM needs a new generator per data level: left out of lite for time)', 'baseline,gndl', 'baseline,spndl,gndl,ddl', 'baseline,spndl,gndl,idferm,ddl'),
  comparisonBenchSubjects: param('notebook 06 (comparison): SynFER subjects of each benchmark level (trained by npm run study)', 8, 60, 60),
  comparisonBenchFolds: param('notebook 06 (comparison): subject-independent folds of each benchmark level', 2, 5, 5),
  comparisonBenchEpochs: param('notebook 06 (comparison): training epochs per fold at each benchmark level', 1, 12, 40),
  comparisonConfoundLevels: param('notebook 06 (comparison): identity-confound strengths of the benchmark (SynFER confound; the other factors stay at synferPose/synferLight)', '1,2', '0,1,2', '0,1,2'),
  comparisonPoseLevels: param('notebook 06 (comparison): largest |yaw| (degrees) of the benchmark levels', '0', '0,15,30', '0,15,30'),
  comparisonLightLevels: param('notebook 06 (comparison): strongest side illumination of the benchmark levels', '0.3', '0,0.3,0.8', '0,0.3,0.8'),
} satisfies Record<string, Parameter<Value>>;

type Params = typeof PARAMETERS;

/**
 * Parameters that do not change what a run computes: left out of stored run
 * configurations and their hashes. The lists of variants, sweep values and
 * levels only choose which runs a notebook makes, so editing them never
 * retrains the runs it already has.
 */
export const NOT_RUN_SETTINGS = ['force', 'benchSteps', 'workers', 'calibrationSeed', 'study',
  'gndlVariants', 'gndlLambdas', 'idfermVariants', 'idfermHngVariants', 'idfermLambdas', 'idfermSlopes', 'ddlVariants', 'ddlSeeds',
  'comparisonMethods', 'comparisonBenchMethods', 'comparisonConfoundLevels', 'comparisonPoseLevels', 'comparisonLightLevels'] as const;
export type RunSettings = Omit<Config, (typeof NOT_RUN_SETTINGS)[number]>;

/**
 * Switches added after runs were stored, with the parameters they govern:
 * while a switch is off, it and its parameters are left out of the run
 * settings, so the stored runs keep their ids until the switch is turned on.
 */
export const OFF_SWITCHES: Record<string, readonly string[]> = {
  idfermLrPlateau: ['idfermLrPatience', 'idfermLrRise', 'idfermValShare'],
};

/** Papers whose notebooks have their own parameters, named with the paper as prefix (spndlFolds, ddlEpochs, ...); notebook 06's 'comparison' parameters too (mapped onto the shared ones before a run). */
export const PAPER_PREFIXES = ['spndl', 'gndl', 'idferm', 'ddl', 'comparison'] as const;

/**
 * The settings a run of `paper`'s method depends on: the configuration
 * without NOT_RUN_SETTINGS and without the other papers' own parameters, so
 * tuning one paper's notebook does not invalidate the stored runs of another.
 */
export function runSettings(config: Config, paper?: string): RunSettings {
  const out: Record<string, unknown> = { ...config };
  for (const k of NOT_RUN_SETTINGS) delete out[k];
  for (const [k, governed] of Object.entries(OFF_SWITCHES)) if (!out[k]) for (const g of [k, ...governed]) delete out[g];
  for (const k of Object.keys(out)) {
    const prefix = PAPER_PREFIXES.find((p) => k.startsWith(p) && /[A-Z]/.test(k[p.length] ?? ''));
    if (prefix && prefix !== paper) delete out[k];
  }
  return out as RunSettings;
}
export type Config = { profile: Profile } & {
  readonly [K in keyof Params]: Params[K] extends Parameter<infer T> ? (T extends number ? number : T extends boolean ? boolean : string) : never;
};

/** FER_* variables read elsewhere (not parameters of a run). */
const OTHER_VARIABLES = new Set(['FER_PROFILE', 'FER_BACKEND', 'FER_THREADS', 'FER_RESULTS_DIR']);

const envName = (key: string) => 'FER_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();

function parseValue(key: string, raw: string, like: Value, oneOf?: readonly Value[]): Value {
  const name = envName(key);
  let value: Value;
  if (typeof like === 'number') {
    value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`${name}='${raw}' is not a number`);
  } else if (typeof like === 'boolean') {
    if (!['1', '0', 'true', 'false'].includes(raw)) throw new Error(`${name}='${raw}' must be true/false or 1/0`);
    value = raw === '1' || raw === 'true';
  } else {
    value = raw;
  }
  if (oneOf && !oneOf.includes(value)) throw new Error(`${name}='${raw}' must be one of: ${oneOf.join(', ')}`);
  return value;
}

export function profileFrom(env: NodeJS.ProcessEnv = process.env): Profile {
  const raw = env.FER_PROFILE?.trim() || 'lite';
  if (!(PROFILES as readonly string[]).includes(raw)) {
    throw new Error(`FER_PROFILE='${raw}' is not a profile; use one of: ${PROFILES.join(', ')}`);
  }
  return raw as Profile;
}

/**
 * The run configuration: the profile's values with FER_* overrides applied.
 * @param overrides explicit values (e.g. from a command line), applied last
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Params, Value>> = {}): Config {
  const profile = profileFrom(env);
  const known = new Set([...Object.keys(PARAMETERS).map(envName), ...OTHER_VARIABLES]);
  const unknown = Object.keys(env).filter((k) => k.startsWith('FER_') && !known.has(k));
  if (unknown.length) {
    throw new Error(`unknown setting ${unknown.join(', ')}; known: ${[...known].sort().join(', ')}`);
  }
  const config: Record<string, Value> = { profile };
  for (const [key, p] of Object.entries(PARAMETERS) as [string, Parameter<Value>][]) {
    const raw = env[envName(key)];
    config[key] = raw === undefined ? p.values[profile] : parseValue(key, raw, p.values[profile], p.oneOf);
  }
  for (const [key, value] of Object.entries(overrides)) {
    const p = (PARAMETERS as Record<string, Parameter<Value>>)[key];
    if (!p) throw new Error(`unknown setting '${key}'; known: ${Object.keys(PARAMETERS).join(', ')}`);
    if (value === undefined) continue;
    config[key] = parseValue(key, String(value), p.values[profile], p.oneOf);
  }
  return Object.freeze(config) as Config;
}

/** Rows for a table of the configuration: name, value, where it came from, meaning. */
export function describeConfig(config: Config, env: NodeJS.ProcessEnv = process.env) {
  return Object.entries(PARAMETERS).map(([key, p]) => ({
    parameter: key,
    value: config[key as keyof Params],
    source: env[envName(key)] !== undefined ? envName(key) : `profile ${config.profile}`,
    meaning: p.doc,
  }));
}
