# VOC-LT (Wu et al., Distribution-Balanced loss, ECCV 2020): 1,142 long-tailed images of VOC2012 trainval, 20 classes
# (6 head >= 100 training images, 6 medium 20-99, 8 tail < 20), tested on the 4,952 images of VOC2007 test; an image's
# labels are the classes of all its objects, `difficult` ones included (the official code). Build the lists with
# (the generator draws as the official one: the published split, same images in the same order):
#   python tools/data/make_multilabel_lt.py voc --data-root data/VOCdevkit [--img-ids <published img_id.txt>]
# Layout: data/VOCdevkit/{VOC2012,VOC2007}/{JPEGImages,Annotations,ImageSets}, lists in data/VOCdevkit/longtail2012/.
# Transforms after the DB-loss configs: 224 x 224 (aspect ratio not kept), random crop of at least 0.8 of each
# side, photometric distortion and horizontal flip for training; a plain 224 x 224 resize for testing.
custom_imports = dict(imports=['ltmm.multilabel'], allow_failed_imports=False)
dataset_type = 'VOCLTDataset'
data_root = 'data/VOCdevkit/'
num_classes = 20
class_stats = data_root + 'longtail2012/class_stats.json'  # n_i and N (losses, head/medium/tail)
data_preprocessor = dict(num_classes=num_classes, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.64, 1.0), aspect_ratio_range=(0.8, 1.25)),
    dict(type='ColorJitter', brightness=0.125, contrast=0.5, saturation=0.5, hue=0.1),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='longtail2012/train.txt', pipeline=train_pipeline))
# val = test: the training loader's settings, unshuffled, in batches of 64, on the test list with test_pipeline
val_dataloader = dict(train_dataloader, batch_size=64, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(train_dataloader['dataset'], ann_file='longtail2012/test.txt', test_mode=True,
                                   pipeline=test_pipeline))
test_dataloader = val_dataloader
# mAP (sklearn AP per class) overall and over head / medium / tail classes; per-class AP json + png in the log dir
val_evaluator = dict(type='MultiLabelShotMAP', class_stats=class_stats)
test_evaluator = val_evaluator
