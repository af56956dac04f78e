# ImageNet-LT (Liu et al., OLTR, CVPR 2019): 1,000 classes, 115,846 train images (1,280 ... 5 per class), val 20,000
# (20 per class, from ImageNet train), test 50,000 (the ImageNet-2012 val set, 50 per class). The split files
# ImageNet_LT_{train,val,test}.txt come from the OLTR / classifier-balancing repositories (see configs/baseline/README);
# their lines are "<path relative to the ImageNet-2012 root> <label>". Layout:
#   data/imagenet/{train,val}/...                  ImageNet-2012 images
#   data/imagenet/ImageNet_LT/ImageNet_LT_{train,val,test}.txt
# ImageNetLTDataset checks the line and class counts at load (verify=False for custom lists).
# Transforms of classifier-balancing: RandomResizedCrop 224 + flip + ColorJitter(0.4, 0.4, 0.4) / resize 256 + crop 224.
custom_imports = dict(imports=['ltmm.cls'], allow_failed_imports=False)
dataset_type = 'ImageNetLTDataset'
data_root = 'data/imagenet/'
num_classes = 1000
class_stats = 'data/imagenet/ImageNet_LT/ImageNet_LT_train.txt'  # training counts (many/medium/few, losses)
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
    batch_size=64,  # x 8 GPUs = 512
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='ImageNet_LT/ImageNet_LT_train.txt', split='train',
                 pipeline=train_pipeline))
# val / test: the training loader's settings, unshuffled, on the val / test list with test_pipeline
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file='ImageNet_LT/ImageNet_LT_val.txt', split='val',
                 pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='ImageNet_LT/ImageNet_LT_test.txt', split='test'))
val_evaluator = dict(type='ShotAccuracy', class_stats=class_stats)
test_evaluator = val_evaluator
