# LVIS v1 instance segmentation with uniform image sampling ("random" in mmdet's Seesaw configs). RFS configs wrap
# `lvis_train_dataset` in ClassBalancedDataset(oversample_thr=1e-3). Layout (as mmdet's LVIS configs):
#   data/lvis_v1/annotations/lvis_v1_{train,val}.json, images under data/lvis_v1/{train2017,val2017}/
# The losses read per-class training counts from `class_stats`; write it once with
#   python tools/data/class_stats.py data/lvis_v1/annotations/lvis_v1_train.json \
#       -o data/lvis_v1/annotations/lvis_v1_train_class_stats.json
custom_imports = dict(imports=['ltmm.det'], allow_failed_imports=False)
dataset_type = 'LVISV1Dataset'
data_root = 'data/lvis_v1/'
num_classes = 1203
class_stats = data_root + 'annotations/lvis_v1_train_class_stats.json'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
lvis_train_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/lvis_v1_train.json',
    data_prefix=dict(img=''),
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline,
    backend_args=backend_args)
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=lvis_train_dataset)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
# ltmm's FastLVISMetric: mmdet LVISMetric's keys and lvis-api's numbers, several times faster, over exactly the
# predicted images, with per-class AP (json + PNG) in the run's log folder
val_evaluator = dict(type='FastLVISMetric', ann_file=data_root + 'annotations/lvis_v1_val.json',
                     metric=['bbox', 'segm'], backend_args=backend_args)
test_evaluator = val_evaluator
