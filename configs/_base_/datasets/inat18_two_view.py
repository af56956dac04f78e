# iNaturalist 2018 (./inat18.py) with two augmented views of every training image: the changes of
# ./cifar100_lt_two_view.py (MultiView, default_collate, SelfSupDataPreprocessor) applied to iNaturalist 2018, each
# view with ./inat18.py's augmentation (RandomResizedCrop 224, flip); the test pipeline gives one tensor per image.
# See configs/glmc/README.md, "Two-view pipeline".
_base_ = './inat18.py'
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = dict(collate_fn=dict(type='default_collate'))
