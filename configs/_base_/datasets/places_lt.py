# Places-LT (Liu et al., OLTR, CVPR 2019): 365 classes, 62,500 train images (4,980 ... 5 per class), val 7,300
# (20 per class), test 36,500 (100 per class, from the Places365 val set). Split files Places_LT_{train,val,test}.txt
# from the OLTR / classifier-balancing repositories, lines "<path relative to the Places365 root> <label>". Layout:
#   data/places365/{train,val}/...                 Places365-Standard images (the layout the split files name)
#   data/places365/Places_LT/Places_LT_{train,val,test}.txt
# The literature fine-tunes an ImageNet-pretrained ResNet-152 (OLTR, classifier-balancing) on it.
custom_imports = dict(imports=['ltmm'], allow_failed_imports=False)
dataset_type = 'PlacesLTDataset'
data_root = 'data/places365/'
num_classes = 365
class_stats = 'data/places365/Places_LT/Places_LT_train.txt'
data_preprocessor = dict(num_classes=num_classes, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,  # x 8 GPUs = 256, as classifier-balancing's Places-LT configs
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='Places_LT/Places_LT_train.txt', split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='Places_LT/Places_LT_val.txt', split='val',
                 pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='Places_LT/Places_LT_test.txt', split='test'))
val_evaluator = dict(type='ShotAccuracy', class_stats=class_stats)
test_evaluator = val_evaluator
