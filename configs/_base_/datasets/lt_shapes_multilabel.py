# The multi-label view of LT-Shapes (ltmm's synthetic long-tailed set; each image's label set is the classes of its
# shapes): 30 classes, training images per class from 240 down to 2. Generate it with
#   python tools/data/make_demo_data.py lt_shapes --out-dir data/lt_shapes
# which writes data/lt_shapes/multilabel/{train,val}.txt ("<file> <label> ...", paths relative to data/lt_shapes/).
# Loaders and evaluator as ./voc_lt.py (2 workers), transforms of its own: 96 x 96, flip for training.
_base_ = './voc_lt.py'
dataset_type = 'LTShapesMultiLabelDataset'
data_root = 'data/lt_shapes/'
num_classes = 30
class_stats = data_root + 'multilabel/train.txt'  # training counts (losses, head/medium/tail)
data_preprocessor = dict(num_classes=num_classes, mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0])

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 96), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 96), keep_ratio=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(num_workers=2, dataset=dict(type=dataset_type, data_root=data_root,
                                                    ann_file='multilabel/train.txt', pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(type=dataset_type, data_root=data_root,
                                                  ann_file='multilabel/val.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(class_stats=class_stats)
test_evaluator = val_evaluator
