# NCL with its self-supervised feature enhancement (NCLMoCoClassifier: per-expert MoCo, official
# cifar100_im100_NCL_with_contrastive.yaml settings d 64, T 0.2, EMA 0.999 applied once per expert, CON_RATIO 1) on
# Digits-LT (CPU demo): ./ncl_lenet_1xb32_digits-lt_30e.py's recipe on two views. View 1 (classification): the
# Digits-LT crop 32 pad 2. View 2 (key): the official key view's RandomResizedCrop scale 0.2-1 and Gaussian blur
# sigma 0.1-2 p 0.5, without its flip (digits are not mirror-symmetric) and its colour jitter / grayscale (one
# channel). Queue 512 (the official 1024 is 16 CIFAR batches of 64; 512 is 16 of our 32).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['./ncl_lenet_1xb32_digits-lt_30e.py']
# the two-view changes of ../_base_/datasets/digits_lt_two_view.py (which cannot be a second base: both define the
# Digits-LT data): SelfSupDataPreprocessor and default_collate
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
model = dict(type='NCLMoCoClassifier', moco_dim=64, queue_size=512, temperature=0.2, momentum=0.999, con_ratio=1.0)
key_view = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='MultiView', num_views=[1, 1], transforms=[[dict(type='RandomCrop', crop_size=32, padding=2)], key_view]),
    dict(type='PackInputs'),
]
# drop_last as the official loaders (a partial batch would not divide the queue)
train_dataloader = dict(drop_last=True, collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = dict(collate_fn=dict(type='default_collate'))
