# CIFAR-100-LT, the protocol of Cao et al. (LDAM-DRW, NeurIPS 2019) used by nearly every long-tail paper: class i
# keeps n_i = int(500 * (1 / IF) ** (i / 99)) training images (class 0 is the head), chosen by seed 0 with one shuffle
# per class; the test set is the balanced CIFAR-100 test set (10,000). IF 100 gives 10,847 images, 500 ... 5 per class,
# 35 many / 35 medium / 30 few-shot classes. CIFARLTDataset builds it at load from the python archive:
#   data/cifar100/cifar-100-python/{train,test,meta}    (https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz)
# For another imbalance factor, change `imbalance_factor` here (class_stats follows) or in a copy of this file.
custom_imports = dict(imports=['ltmm.cls'], allow_failed_imports=False)
dataset_type = 'CIFARLTDataset'
data_root = 'data/cifar100/'
num_classes = 100
imbalance_factor = 100
# The training counts, computed with the dataset's formula (the dataset checks it draws exactly these at load).
train_counts = [int(500 * (1.0 / imbalance_factor) ** (i / (num_classes - 1.0))) for i in range(num_classes)]
class_stats = dict(num_images=sum(train_counts), image_count=train_counts, instance_count=train_counts)
data_preprocessor = dict(num_classes=num_classes, mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
                         to_rgb=False)  # the archive is RGB

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    # 1 GPU x 128, as the official LDAM-DRW, RIDE and class-balanced runs: BatchNorm statistics over 128 images
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, num_classes=num_classes, split='train',
                 imbalance_factor=imbalance_factor, seed=0, expected_counts=train_counts, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, num_classes=num_classes, split='test',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ShotAccuracy', class_stats=class_stats)
test_evaluator = val_evaluator
