# ImageNet-LT (./imagenet_lt.py) with two augmented views of every training image: the changes of
# ./cifar100_lt_two_view.py (MultiView, default_collate, SelfSupDataPreprocessor) applied to ImageNet-LT, each view
# with ./imagenet_lt.py's augmentation (RandomResizedCrop 224, flip, ColorJitter 0.4 / 0.4 / 0.4); the test
# pipeline (resize 256, centre crop 224) gives one tensor per image. See configs/glmc/README.md, "Two-view pipeline".
_base_ = './imagenet_lt.py'
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = dict(collate_fn=dict(type='default_collate'))
