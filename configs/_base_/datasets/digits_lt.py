# Digits-LT (scikit-learn's real handwritten digits, long-tailed, imbalance factor 40), in the ImageNet-LT list
# format. Generate it with: python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt
custom_imports = dict(imports=['ltmm.cls'], allow_failed_imports=False)
dataset_type = 'CustomDataset'
data_root = 'data/digits_lt/'
num_classes = 10
classes = [str(d) for d in range(num_classes)]
class_stats = data_root + 'meta/train.txt'  # training counts (many/medium/few, losses)
data_preprocessor = dict(num_classes=num_classes, mean=[127.5], std=[127.5], to_rgb=False)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='meta/train.txt', data_prefix='images',
                 classes=classes, pipeline=train_pipeline))
# val / test: the training loader's settings, unshuffled, in batches of 100, on the val / test list with test_pipeline
val_dataloader = dict(train_dataloader, batch_size=100, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(train_dataloader['dataset'], ann_file='meta/val.txt', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], ann_file='meta/test.txt'))
# many / medium / few-shot accuracy, grouped by the training counts of the train list
val_evaluator = dict(type='ShotAccuracy', class_stats=class_stats)
test_evaluator = val_evaluator
