# Digits-LT (./digits_lt.py) with two augmented views of every training image, for the CPU smoke of the two-view
# methods: the changes of ./cifar100_lt_two_view.py (MultiView, default_collate, SelfSupDataPreprocessor), each view
# with ./digits_lt.py's augmentation (crop 32 with padding 2). See configs/glmc/README.md, "Two-view pipeline".
_base_ = './digits_lt.py'
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
view_pipeline = [dict(type='RandomCrop', crop_size=32, padding=2)]
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = dict(collate_fn=dict(type='default_collate'))
